import type { Command } from "commander";
import { action, clientFor, hostOption, type HostOptions } from "../cli/action.ts";
import type { RunningModel } from "../client/types.ts";
import { humanBytes, humanTime } from "../format/human.ts";
import { processor, shortDigest } from "../format/model-columns.ts";
import { renderTable } from "../format/table.ts";

/** `caravan ps [PREFIX]`: the loaded models, as `ollama ps` prints them. */
export function registerPsCommand(program: Command): void {
  hostOption(program.command("ps").description("list loaded models").argument("[prefix]", "only models whose name starts with this")).action(
    action(async (prefix: string | undefined, options: HostOptions) => {
      const models = await clientFor(options).ps();
      const now = Date.now();
      const rows = models
        .filter((m) => !prefix || m.name.startsWith(prefix))
        .map((m) => [m.name, shortDigest(m.digest), humanBytes(m.size ?? 0), processor(m.size, m.size_vram), String(m.context_length ?? 0), until(m, now)]);
      process.stdout.write(renderTable(rows, ["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"]));
    }),
  );
}

/** The UNTIL column: when the model unloads ("4 minutes from now", "Forever"), or "Stopping..." once past. */
function until(m: RunningModel, now: number): string {
  const expires = m.expires_at ? Date.parse(m.expires_at) : Number.NaN;
  if (!Number.isNaN(expires) && expires < now) return "Stopping...";
  return humanTime(m.expires_at, now, "Never");
}
