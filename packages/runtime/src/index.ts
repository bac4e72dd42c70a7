export { closeAll } from "./close-all.ts";
export { createLogger } from "./logger.ts";
export { onShutdown } from "./shutdown.ts";
export type { Logger } from "pino";
