import { parseGoDuration } from "./duration.ts";

/**
 * How long a model stays loaded after its last request ends, in milliseconds.
 * `KEEP_ALIVE_FOREVER` (-1) means never unload; 0 means unload as soon as the request is done.
 */
export type KeepAliveMs = number;
export const KEEP_ALIVE_FOREVER: KeepAliveMs = -1;

export class KeepAliveError extends Error {
  constructor(value: unknown) {
    super(`invalid keep_alive ${JSON.stringify(value)}: use seconds (a number) or a duration such as "5m", "1h30m", "300ms"`);
    this.name = "KeepAliveError";
  }
}

/**
 * Parses keep_alive with Ollama's rules: a number is seconds (fractions allowed), a string is a
 * Go duration, any negative value keeps the model loaded forever. Throws KeepAliveError otherwise.
 */
export function parseKeepAlive(value: unknown): KeepAliveMs {
  let ms: number | undefined;
  if (typeof value === "number" && Number.isFinite(value)) ms = value * 1000;
  else if (typeof value === "string") ms = parseGoDuration(value.trim());
  if (ms === undefined || Number.isNaN(ms)) throw new KeepAliveError(value);
  if (ms < 0) return KEEP_ALIVE_FOREVER;
  return Math.round(ms);
}
