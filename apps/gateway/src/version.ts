import { createRequire } from "node:module";

/** caravan's version, reported by /api/version. */
export const CARAVAN_VERSION: string = (createRequire(import.meta.url)("../package.json") as { version: string }).version;
