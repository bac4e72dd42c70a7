export { Residency, type LoadFacts, type ResidencyConfig, type LoadEstimate, type ResidencyDeps, type ResidencyLogLevel, type UseOptions } from "./residency.ts";
export { NoRoomError, ResidencyClosedError, TooLargeError } from "./errors.ts";
export { atDeadline, MAX_TIMER_DELAY_MS, systemClock, type Clock } from "./clock.ts";
export {
  ByteSizeError,
  defaultMemoryBudget,
  estimateModelBytes,
  MODEL_OVERHEAD_BYTES,
  parseByteSize,
  RAM_SHARE,
  VRAM_RESERVE_BYTES,
} from "./memory.ts";
