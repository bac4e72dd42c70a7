import type { Command } from "commander";
import { loadOrUnload } from "../chat/answer.ts";
import { action, clientFor, hostOption, type HostOptions } from "../cli/action.ts";
import { ApiError } from "../client/errors.ts";

/** `caravan stop MODEL`: unload it now (a chat with no messages and keep_alive 0). */
export function registerStopCommand(program: Command): void {
  hostOption(program.command("stop").description("stop a running model").argument("<model>", "model name")).action(
    action(async (model: string, options: HostOptions) => {
      try {
        await loadOrUnload(clientFor(options), { model, messages: [], keep_alive: 0 }, process.stderr.isTTY ? process.stderr : undefined);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) throw new Error(`couldn't find model "${model}" to stop`);
        throw error;
      }
    }),
  );
}
