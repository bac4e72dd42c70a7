import type { Command } from "commander";
import { runEntryPoint } from "../server/entry-point.ts";

const ENVIRONMENT = `
Configured by the environment (see the README): CARAVAN_HOST (listen address, default
127.0.0.1:11434), CARAVAN_MODELS (folder of *.gguf, default ./models), CARAVAN_NUM_PARALLEL,
CARAVAN_CONTEXT_LENGTH, CARAVAN_KEEP_ALIVE, CARAVAN_MAX_LOADED_MODELS, CARAVAN_MAX_QUEUE, …`;

/**
 * `caravan serve` (one process, no Redis: `pnpm start`), `caravan gateway` and `caravan worker`
 * (the Redis form: `pnpm start:gateway`, `pnpm start:worker`, with REDIS_URL).
 */
export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("start caravan in one process: gateway and worker, no Redis (Ctrl+C drains and stops)")
    .addHelpText("after", ENVIRONMENT)
    .action(() => runEntryPoint("serve"));
}
