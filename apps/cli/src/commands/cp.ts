import type { Command } from "commander";
import { action, clientFor, hostOption, type HostOptions } from "../cli/action.ts";

/** `caravan cp SOURCE DESTINATION`: POST /api/copy. */
export function registerCpCommand(program: Command): void {
  hostOption(program.command("cp").description("copy a model").argument("<source>", "existing model").argument("<destination>", "new name")).action(
    action(async (source: string, destination: string, options: HostOptions) => {
      await clientFor(options).copy(source, destination);
      process.stdout.write(`copied '${source}' to '${destination}'\n`);
    }),
  );
}
