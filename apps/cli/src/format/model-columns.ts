/** The ID column of `list` and `ps`: a digest's first 12 hex digits, as Ollama shows it. */
export function shortDigest(digest: string | undefined): string {
  return (digest ?? "").replace(/^sha256:/, "").slice(0, 12);
}

/** The PROCESSOR column of `ps`: "100% CPU", "100% GPU", "48%/52% CPU/GPU" (Ollama's words). */
export function processor(size = 0, sizeVram = 0): string {
  if (sizeVram === 0) return "100% CPU";
  if (sizeVram === size) return "100% GPU";
  if (sizeVram > size || size === 0) return "Unknown";
  const cpu = Math.round(((size - sizeVram) / size) * 100);
  return `${cpu}%/${100 - cpu}% CPU/GPU`;
}
