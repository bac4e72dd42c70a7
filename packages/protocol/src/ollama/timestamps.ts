/**
 * Ollama's `created_at`: UTC RFC 3339 with fractional seconds and a `Z`, e.g.
 * 2025-10-26T17:21:21.196249Z. Go prints sub-millisecond digits; the high-resolution clock
 * lets us print microseconds too, so chunks written within one millisecond still differ.
 */
export function ollamaTimestamp(epochMs: number = performance.timeOrigin + performance.now()): string {
  // Whole microseconds first: a double near 1.7e12 ms cannot hold .249 exactly, and flooring the
  // sub-millisecond part alone would print 248 for it. Microseconds since 1970 fit in 2^53.
  const totalMicros = Math.round(epochMs * 1000);
  const wholeMs = Math.floor(totalMicros / 1000);
  const micros = totalMicros - wholeMs * 1000;
  const iso = new Date(wholeMs).toISOString(); // ...ss.mmmZ
  return `${iso.slice(0, -1)}${String(micros).padStart(3, "0")}Z`;
}
