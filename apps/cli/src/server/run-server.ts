import { ConfigError } from "@caravan/protocol";
import { createLogger, onShutdown, type Logger } from "@caravan/runtime";
import type { ServerKind } from "./entry-point.ts";

type Root = { start(log: Logger): Promise<() => Promise<void>> };

/**
 * The composition roots (`roots/`): the only code that puts a gateway, a worker, a transport and
 * telemetry together into a process; gateway and worker never import each other. Each is loaded
 * only for its own kind, so a gateway process never loads the engine, nor a worker the HTTP app.
 */
const ROOTS: Record<ServerKind, { name: string; label: string; load: () => Promise<Root> }> = {
  serve: { name: "caravan", label: "caravan", load: () => import("./roots/single.ts") },
  gateway: { name: "caravan-gateway", label: "caravan gateway", load: () => import("./roots/gateway.ts") },
  worker: { name: "caravan-worker", label: "caravan worker", load: () => import("./roots/worker.ts") },
};

/**
 * Starts a server in this process from the environment, and drains it on SIGINT/SIGTERM (see
 * onShutdown). A bad configuration is one line on stderr and exit 2; any other failure to start
 * is thrown.
 */
export async function runServer(kind: ServerKind): Promise<void> {
  const { name, label, load } = ROOTS[kind];
  const log = createLogger(name);
  try {
    const root = await load();
    onShutdown(log, await root.start(log));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${label}: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
}
