/**
 * Ollama's `created_at`: UTC RFC 3339 with fractional seconds and a `Z`, e.g.
 * 2025-10-26T17:21:21.196249Z. Go prints sub-millisecond digits; the high-resolution clock
 * lets us print microseconds too, so chunks written within one millisecond still differ.
 *
 * Every streamed line carries one, so the date part is formatted once per second and reused:
 * Date#toISOString per token was a visible share of the gateway's CPU at thousands of tokens/s.
 */
export function ollamaTimestamp(epochMs: number = performance.timeOrigin + performance.now()): string {
  // Whole microseconds first: a double near 1.7e12 ms cannot hold .249 exactly, and flooring the
  // sub-millisecond part alone would print 248 for it. Microseconds since 1970 fit in 2^53.
  const totalMicros = Math.round(epochMs * 1000);
  const second = Math.floor(totalMicros / 1_000_000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19); // YYYY-MM-DDTHH:MM:SS
  }
  return `${cachedPrefix}.${String(totalMicros - second * 1_000_000).padStart(6, "0")}Z`;
}

let cachedSecond = Number.NaN;
let cachedPrefix = "";
