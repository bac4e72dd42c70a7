import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The checkout the CLI runs from. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

/** The server entry points, as `pnpm start`, `start:gateway` and `start:worker` run them. */
export const ENTRY_POINTS = {
  serve: "apps/gateway/src/single.ts",
  gateway: "apps/gateway/src/main.ts",
  worker: "apps/worker/src/main.ts",
} as const;

/**
 * Runs an entry point in this process, exactly as `node --import tsx ENTRY` would: it reads its
 * configuration from the environment and handles SIGINT/SIGTERM itself (the first drains, a
 * second exits at once), so a Ctrl+C reaches it once and directly. A failure to start (a port in
 * use, say) ends the process with exit 1, as it would end `node ENTRY`.
 */
export async function runEntryPoint(kind: keyof typeof ENTRY_POINTS): Promise<void> {
  try {
    await import(pathToFileURL(path.join(ROOT, ENTRY_POINTS[kind])).href);
  } catch (error) {
    process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
