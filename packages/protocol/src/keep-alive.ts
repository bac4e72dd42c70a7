import { MAX_GO_DURATION_MS, parseGoDuration } from "./duration.ts";

/**
 * How long a model stays loaded after its last request ends, in milliseconds.
 * `KEEP_ALIVE_FOREVER` (-1) means never unload; 0 means unload as soon as the request is done.
 */
export type KeepAliveMs = number;
export const KEEP_ALIVE_FOREVER: KeepAliveMs = -1;

export class KeepAliveError extends Error {
  constructor(value: unknown) {
    super(`invalid keep_alive ${show(value)}: use seconds (a number) or a duration such as "5m", "1h30m", "300ms"`);
    this.name = "KeepAliveError";
  }
}

/** JSON for what JSON can print; NaN, Infinity, undefined and bigints as JavaScript writes them. */
function show(value: unknown): string {
  if (typeof value === "number" || typeof value === "bigint" || value === undefined) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Parses keep_alive with Ollama's rules: a number is seconds (fractions allowed), a string is a
 * Go duration (exactly as time.ParseDuration takes it: no spaces), any negative value keeps the
 * model loaded forever. Throws KeepAliveError otherwise.
 * A number longer than a Go duration can hold (about 292 years) also means forever.
 * Note for timers: values past 2^31 - 1 ms (about 24.8 days, e.g. "720h") are valid here, but
 * Node's setTimeout fires at once for them; a timer must wait in steps or treat them as forever.
 */
export function parseKeepAlive(value: unknown): KeepAliveMs {
  let ms: number | undefined;
  if (typeof value === "number" && Number.isFinite(value)) ms = value * 1000;
  else if (typeof value === "string") ms = parseGoDuration(value);
  if (ms === undefined || Number.isNaN(ms)) throw new KeepAliveError(value);
  if (ms < 0 || ms > MAX_GO_DURATION_MS) return KEEP_ALIVE_FOREVER;
  // `+ 0` turns -0 (from keep_alive -0) into 0.
  return Math.round(ms) + 0;
}
