import type { Command } from "commander";
import { loadOrUnload } from "../chat/answer.ts";
import { action, clientFor, hostOption, type HostOptions } from "../cli/action.ts";
import { ApiError } from "../client/errors.ts";

/**
 * `caravan rm MODEL…`: unload each model, then DELETE /api/delete, as `ollama rm` does. Stops at
 * the first model that cannot be deleted (exit 1).
 */
export function registerRmCommand(program: Command): void {
  hostOption(program.command("rm").description("remove models").argument("<models...>", "model names")).action(
    action(async (models: string[], options: HostOptions) => {
      const client = clientFor(options);
      for (const model of models) {
        try {
          await loadOrUnload(client, { model, messages: [], keep_alive: 0 });
        } catch (error) {
          if (!(error instanceof ApiError && /not found/i.test(error.message))) process.stderr.write(`Warning: unable to stop model '${model}'\n`);
        }
        await client.delete(model);
        process.stdout.write(`deleted '${model}'\n`);
      }
    }),
  );
}
