/**
 * Ollama's human-readable sizes and times (its `format` package), so `caravan list` and `ps`
 * read like `ollama list` and `ollama ps`.
 */

const KB = 1000;
const MB = KB * 1000;
const GB = MB * 1000;
const TB = GB * 1000;

/** Decimal units: 1185376 → "1.2 MB", 27_000_000_000 → "27 GB", 512 → "512 B". */
export function humanBytes(bytes: number): string {
  const [value, unit] =
    bytes >= TB ? [bytes / TB, "TB"] : bytes >= GB ? [bytes / GB, "GB"] : bytes >= MB ? [bytes / MB, "MB"] : bytes >= KB ? [bytes / KB, "KB"] : [bytes, "B"];
  if (unit === "B") return `${Math.trunc(bytes)} B`;
  if (value >= 10) return `${Math.trunc(value)} ${unit}`;
  return Number.isInteger(value) ? `${value} ${unit}` : `${value.toFixed(1)} ${unit}`;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** A duration as Ollama words it: "Less than a second", "About a minute", "3 hours", "2 weeks". */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / HOUR);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / HOUR) / 24 / 365)} years`;
}

/**
 * "2 minutes ago", "4 minutes from now", "Forever" (more than 20 years ahead, as Ollama prints a
 * model kept loaded forever); `zero` for a missing or unparseable time (Go's zero time included).
 */
export function humanTime(time: string | undefined, now: number, zero: string): string {
  const at = time ? Date.parse(time) : Number.NaN;
  if (Number.isNaN(at) || new Date(at).getUTCFullYear() <= 1) return zero;
  const delta = now - at;
  if (Math.trunc(Math.trunc(delta / HOUR) / 24 / 365) < -20) return "Forever";
  if (delta < 0) return `${humanDuration(-delta)} from now`;
  return `${humanDuration(delta)} ago`;
}
