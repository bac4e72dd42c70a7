import { pino, type Logger } from "pino";

/** JSON lines on stdout; CARAVAN_LOG_LEVEL picks the level (default info). */
export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.CARAVAN_LOG_LEVEL ?? "info" });
}
