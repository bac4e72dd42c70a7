import type { Command } from "commander";
import { runEntryPoint } from "../server/entry-point.ts";

/** `caravan worker`: a worker process that takes jobs from Redis (REDIS_URL) and runs the models. */
export function registerWorkerCommand(program: Command): void {
  program
    .command("worker")
    .description("start a worker that runs models for the gateways over Redis (needs REDIS_URL)")
    .addHelpText("after", "\nConfigured by the environment: REDIS_URL, CARAVAN_MODELS, CARAVAN_NUM_PARALLEL, CARAVAN_GPU, … (see the README).")
    .action(() => runEntryPoint("worker"));
}
