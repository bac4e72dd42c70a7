import type { ShowAnswer } from "../client/types.ts";
import { renderTable } from "./table.ts";

/**
 * `ollama show MODEL` (and `/show info`): the Model, Capabilities and Parameters sections, with
 * Metadata when verbose, and the first lines of System and License, laid out as Ollama does.
 */
export function showInfo(show: ShowAnswer, verbose: boolean): string {
  let out = "";
  const section = (title: string, rows: string[][]) => {
    out += `  ${title}\n${renderTable(rows)}\n`;
  };
  const info = show.model_info;
  const details = show.details ?? {};
  const model: string[][] = [];
  if (info) {
    const arch = typeof info["general.architecture"] === "string" ? info["general.architecture"] : "";
    if (arch) model.push(["", "architecture", arch]);
    const count = info["general.parameter_count"];
    const params = details.parameter_size || (typeof count === "number" ? humanNumber(count) : "");
    if (params) model.push(["", "parameters", params]);
    for (const [key, label] of [["context_length", "context length"], ["embedding_length", "embedding length"]] as const) {
      const value = info[`${arch}.${key}`];
      if (typeof value === "number") model.push(["", label, String(value)]);
    }
  } else {
    model.push(["", "architecture", details.family ?? ""], ["", "parameters", details.parameter_size ?? ""]);
  }
  model.push(["", "quantization", details.quantization_level ?? ""]);
  section("Model", model);

  if (show.capabilities?.length) section("Capabilities", show.capabilities.map((c) => ["", c]));
  if (show.parameters) {
    section("Parameters", show.parameters.split("\n").filter((l) => l !== "").map((l) => ["", ...l.trim().split(/\s+/)]));
  }
  if (info && verbose) {
    section("Metadata", Object.keys(info).sort().map((key) => ["", key, metadataValue(info[key])]));
  }
  if (show.system) section("System", head(show.system, 2));
  if (show.license) section("License", head(show.license, 2));
  return out;
}

/** The first n non-blank lines, then "..." if there were more. */
function head(text: string, n: number): string[][] {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const rows = lines.slice(0, n).map((l) => ["", l]);
  if (lines.length > n) rows.push(["", "..."]);
  return rows;
}

/** Ollama's format.HumanNumber: 7_000_000_000 → "7B", 7_240_000_000 → "7.2B", 1_500_000 → "1.50M", 292_800 → "293K". */
export function humanNumber(n: number): string {
  if (n >= 1e9) return Number.isInteger(n / 1e9) ? `${n / 1e9}B` : `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return Number.isInteger(n / 1e6) ? `${n / 1e6}M` : `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}K`;
  return String(n);
}

/** A metadata value as Go's %v / %g print it; long arrays shortened as Ollama does. */
function metadataValue(value: unknown): string {
  if (typeof value === "boolean" || typeof value === "string") return String(value);
  if (typeof value === "number") return goG(value);
  if (Array.isArray(value)) {
    const items = value.map((v) => (typeof v === "number" ? goG(v) : String(v)));
    let width = 1;
    let shown = 0;
    for (const [i, item] of items.entries()) {
      const w = [...item].length + (i > 0 ? 2 : 0);
      if (width + w > 10 && i > 0) break;
      width += w;
      shown++;
    }
    return shown < items.length ? `[${items.slice(0, shown).join(" ")} ...+${items.length - shown} more]` : `[${items.join(" ")}]`;
  }
  return value === null || value === undefined ? "<nil>" : typeof value;
}

/** Go's %g at the shortest precision: the exponent form below 1e-4 and from 1e6 up (8e+09, 1e-05). */
function goG(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN";
  if (n === 0) return "0";
  const [mantissa, exp] = n.toExponential().split("e") as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) {
    return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  return String(n);
}
