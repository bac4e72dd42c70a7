import { SERVER_KINDS, type ServerKind } from "./entry-point.ts";
import { runServer } from "./run-server.ts";

/**
 * `node --import tsx apps/cli/src/server/main.ts serve|gateway|worker`: what `pnpm start`,
 * `start:gateway`, `start:worker`, the cluster, the Dockerfiles and the tests run.
 */
const kind = process.argv[2];
if (!SERVER_KINDS.includes(kind as ServerKind)) {
  console.error(`usage: node --import tsx apps/cli/src/server/main.ts ${SERVER_KINDS.join("|")} (got ${kind ?? "nothing"})`);
  process.exit(2);
}
await runServer(kind as ServerKind);
