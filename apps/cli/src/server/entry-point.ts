import path from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout the CLI runs from. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

/**
 * The one module every server process starts from, relative to ROOT: `node --import tsx
 * SERVER_ENTRY KIND` (`tsx SERVER_ENTRY KIND` in package.json's start scripts, the same in the
 * Dockerfiles' CMD; test/infra checks that they agree with this file).
 */
export const SERVER_ENTRY = "apps/cli/src/server/main.ts";
/** The `caravan` command, relative to ROOT (`pnpm caravan`, `pnpm cluster`). */
export const CLI_BIN = "apps/cli/bin/caravan.mjs";

/** `serve`: gateway and worker in one process (`pnpm start`); `gateway`, `worker`: the Redis form. */
export const SERVER_KINDS = ["serve", "gateway", "worker"] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

/** How to start a server of this kind as a child process (the cluster, the tests, the benchmarks). */
export function serverCommand(kind: ServerKind, nodeArgs: string[] = []): { command: string; args: string[]; cwd: string } {
  return { command: process.execPath, args: [...nodeArgs, "--import", "tsx", SERVER_ENTRY, kind], cwd: ROOT };
}

/**
 * Runs a server in this process, exactly as `node --import tsx SERVER_ENTRY KIND` would: it reads
 * its configuration from the environment and handles SIGINT/SIGTERM itself (the first drains, a
 * second exits at once), so a Ctrl+C reaches it once and directly. A failure to start (a port in
 * use, say) ends the process with exit 1. Loaded on demand: the client commands never load the
 * gateway or the engine.
 */
export async function runEntryPoint(kind: ServerKind): Promise<void> {
  try {
    const { runServer } = await import("./run-server.ts");
    await runServer(kind);
  } catch (error) {
    process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
