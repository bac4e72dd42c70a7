/**
 * Go's time.ParseDuration, because Ollama clients send keep_alive in Go's syntax
 * ("5m", "1h30m", "300ms", "-1s", "0"). Returns milliseconds, or undefined for a bad form.
 * Grammar: [-+]? then one or more of (digits, optional "." and digits, but at least one digit) + unit.
 */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3, // U+00B5 micro sign
  "μs": 1e-3, // U+03BC Greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const TERM = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/** Go durations are int64 nanoseconds; Go rejects anything longer (about 292 years). */
export const MAX_GO_DURATION_MS = 9_223_372_036_854.775;

export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  // Go accepts a bare "0" (with or without sign) and nothing else unitless.
  if (rest === "0") return 0;
  if (rest === "") return undefined;
  let total = 0;
  while (rest.length > 0) {
    const match = TERM.exec(rest);
    if (!match) return undefined;
    const [whole, amount, unit] = match as unknown as [string, string, string];
    total += Number(amount) * UNIT_MS[unit]!;
    rest = rest.slice(whole.length);
  }
  if (total > MAX_GO_DURATION_MS) return undefined;
  // Go's "-0s" is 0, not a negative zero that would read as "forever" to a sign check.
  return total === 0 ? 0 : sign * total;
}
