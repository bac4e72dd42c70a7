import type { Command } from "commander";
import { action, clientFor, hostOption, type HostOptions } from "../cli/action.ts";
import { humanBytes, humanTime } from "../format/human.ts";
import { shortDigest } from "../format/model-columns.ts";
import { renderTable } from "../format/table.ts";

/** `caravan list` / `ls [PREFIX]`: the server's models, as `ollama list` prints them. */
export function registerListCommand(program: Command): void {
  hostOption(program.command("list").alias("ls").description("list models").argument("[prefix]", "only models whose name starts with this")).action(
    action(async (prefix: string | undefined, options: HostOptions) => {
      const models = await clientFor(options).list();
      const now = Date.now();
      const rows = models
        .filter((m) => !prefix || m.name.toLowerCase().startsWith(prefix.toLowerCase()))
        .map((m) => [m.name, shortDigest(m.digest), m.size === undefined ? "-" : humanBytes(m.size), humanTime(m.modified_at, now, "Never")]);
      process.stdout.write(renderTable(rows, ["NAME", "ID", "SIZE", "MODIFIED"]));
    }),
  );
}

