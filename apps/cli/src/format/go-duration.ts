/**
 * A duration in nanoseconds written as Go's time.Duration.String() writes it ("1.234567s",
 * "12.5ms", "1m2.003s", "0s"): `ollama run --verbose` prints its timings that way.
 */
export function goDuration(nanoseconds: number): string {
  let ns = Math.round(Math.abs(nanoseconds));
  const sign = nanoseconds < 0 ? "-" : "";
  if (ns === 0) return "0s";
  if (ns < 1e9) {
    const [unit, digits] = ns < 1e3 ? ["ns", 0] : ns < 1e6 ? ["µs", 3] : ["ms", 6];
    return `${sign}${withFraction(ns, digits)}${unit}`;
  }
  const fraction = fractionDigits(ns % 1e9, 9);
  ns = Math.trunc(ns / 1e9);
  let text = `${ns % 60}${fraction}s`;
  ns = Math.trunc(ns / 60);
  if (ns > 0) {
    text = `${ns % 60}m${text}`;
    ns = Math.trunc(ns / 60);
    if (ns > 0) text = `${ns}h${text}`;
  }
  return sign + text;
}

/** v / 10^digits with the fraction's trailing zeros (and a bare point) left out. */
function withFraction(v: number, digits: number): string {
  const scale = 10 ** digits;
  return `${Math.trunc(v / scale)}${fractionDigits(v % scale, digits)}`;
}

function fractionDigits(rest: number, digits: number): string {
  if (digits === 0 || rest === 0) return "";
  return `.${String(rest).padStart(digits, "0").replace(/0+$/, "")}`;
}
