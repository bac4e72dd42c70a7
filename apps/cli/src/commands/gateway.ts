import type { Command } from "commander";
import { runEntryPoint } from "../server/entry-point.ts";

/** `caravan gateway`: a gateway process that sends jobs to workers over Redis (REDIS_URL). */
export function registerGatewayCommand(program: Command): void {
  program
    .command("gateway")
    .description("start a gateway that sends requests to workers over Redis (needs REDIS_URL)")
    .addHelpText("after", "\nConfigured by the environment: REDIS_URL, CARAVAN_HOST, CARAVAN_REDIS_PREFIX, CARAVAN_MAX_QUEUE, … (see the README).")
    .action(() => runEntryPoint("gateway"));
}
