const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/**
 * Added to every model's estimate for what neither the file nor the KV cache covers: llama.cpp's
 * compute buffers (the graph's scratch space, including logits of n_vocab floats per batch token;
 * llama.cpp reports 50–300 MiB for 1–8B models at a few thousand tokens of context), the
 * context's own structures and the sampler. 256 MiB is the upper end of that range: pessimistic
 * for tiny models, which only matters when the budget is nearly full, and a model alone is loaded
 * over the budget anyway.
 */
export const MODEL_OVERHEAD_BYTES = 256 * MiB;

/**
 * Memory a model will take once loaded: the weights (the file's size: GGUF tensors are stored as
 * they are used), the KV cache of every sequence, and a fixed overhead.
 */
export function estimateModelBytes(entry: { size: number; kvBytesPerToken: number }, contextSize: number, slots: number): number {
  return entry.size + entry.kvBytesPerToken * contextSize * slots + MODEL_OVERHEAD_BYTES;
}

/**
 * Kept free on a GPU: the CUDA context and cuBLAS workspace take a few hundred MiB outside any
 * model (Ollama reserves 457 MiB per CUDA GPU for the same reason).
 */
export const VRAM_RESERVE_BYTES = 512 * MiB;

/**
 * On CPU, the share of total RAM models may take: the rest is for the OS, this process (Node,
 * the gateway in a single-process setup) and other programs. Total rather than free because
 * free RAM swings with the page cache, and the model files themselves are memory-mapped into it.
 */
export const RAM_SHARE = 0.75;

/**
 * Memory the worker may fill with models when CARAVAN_MEMORY_BUDGET does not say.
 * GPU: its VRAM less what others already use (`used`, read before any model loads) and a reserve.
 * CPU: 75% of total RAM, but no more than is free now (on Linux, Node's free memory is
 * MemAvailable, which already counts reclaimable page cache as free), so a worker started beside
 * another memory-hungry program does not plan to take memory that program holds.
 * Whole bytes, never negative.
 */
export function defaultMemoryBudget(ram: { total: number; free: number }, vram?: { total: number; used: number }): number {
  const budget = vram ? vram.total - Math.max(0, vram.used) - VRAM_RESERVE_BYTES : Math.min(ram.total * RAM_SHARE, ram.free);
  return Math.max(0, Math.floor(budget));
}

export class ByteSizeError extends Error {
  constructor(value: string) {
    super(
      `invalid byte size ${JSON.stringify(value)}: use a whole number of bytes ("1073741824") or a number with a unit: ` +
        `KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000), e.g. "8GiB", "512MB", "1.5GiB"`,
    );
    this.name = "ByteSizeError";
  }
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: KiB,
  mib: MiB,
  gib: GiB,
  tib: 1024 * GiB,
};

/**
 * Parses a memory size for an env override: plain bytes ("1073741824") or a number and a unit
 * ("8GiB", "512MB", "1.5 GiB"; units in any case). A bare "8G" or "8M" is refused: people mean
 * GiB by it as often as GB, and the difference is 7%. Fractions are rounded down to whole bytes.
 */
export function parseByteSize(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!match) throw new ByteSizeError(value);
  const [, number, unit = ""] = match;
  const multiplier = unit === "" ? (number!.includes(".") ? undefined : 1) : UNITS[unit.toLowerCase()];
  if (multiplier === undefined) throw new ByteSizeError(value);
  const product = Number(number) * multiplier;
  // 1.1 × 1e6 is 1100000.0000000002 in floating point and 0.57 × 100 is 56.99…: round away that
  // noise (15 significant digits) before flooring a fraction. A whole number times a unit is exact.
  const bytes = number!.includes(".") ? Math.floor(Number(product.toPrecision(15))) : product;
  if (!Number.isSafeInteger(bytes)) throw new ByteSizeError(value);
  return bytes;
}
