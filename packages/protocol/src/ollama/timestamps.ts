/**
 * Ollama's `created_at`: UTC RFC 3339 with fractional seconds and a `Z`, e.g.
 * 2025-10-26T17:21:21.196249Z. Go prints sub-millisecond digits; the high-resolution clock
 * lets us print microseconds too, so chunks written within one millisecond still differ.
 */
export function ollamaTimestamp(epochMs: number = performance.timeOrigin + performance.now()): string {
  const wholeMs = Math.floor(epochMs);
  const micros = Math.floor((epochMs - wholeMs) * 1000);
  const iso = new Date(wholeMs).toISOString(); // ...ss.mmmZ
  return `${iso.slice(0, -1)}${String(micros).padStart(3, "0")}Z`;
}
