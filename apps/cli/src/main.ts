import { Command } from "commander";
import { registerClusterCommand } from "./commands/cluster.ts";

/** `caravan …` (`pnpm caravan …` from the checkout). */
const program = new Command("caravan").description("caravan: an Ollama-compatible inference endpoint that runs on a cluster");
registerClusterCommand(program);
await program.parseAsync();
