import { goDuration } from "./go-duration.ts";

/** The timings of a final chat object (durations in nanoseconds). */
export interface Metrics {
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
  prompt_eval_duration?: number;
  eval_count?: number;
  eval_duration?: number;
}

/**
 * What `ollama run --verbose` prints after an answer (api.Metrics.Summary), line for line:
 * a line whose value is zero or absent is left out, as Ollama does.
 */
export function metricsSummary(m: Metrics): string {
  const lines: string[] = [];
  const rate = (count: number, ns: number) => `${(count / (ns / 1e9)).toFixed(2)} tokens/s`;
  if (m.total_duration) lines.push(`total duration:       ${goDuration(m.total_duration)}`);
  if (m.load_duration) lines.push(`load duration:        ${goDuration(m.load_duration)}`);
  if (m.prompt_eval_count) lines.push(`prompt eval count:    ${m.prompt_eval_count} token(s)`);
  if (m.prompt_eval_duration) {
    lines.push(`prompt eval duration: ${goDuration(m.prompt_eval_duration)}`);
    lines.push(`prompt eval rate:     ${rate(m.prompt_eval_count ?? 0, m.prompt_eval_duration)}`);
  }
  if (m.eval_count) lines.push(`eval count:           ${m.eval_count} token(s)`);
  if (m.eval_duration) {
    lines.push(`eval duration:        ${goDuration(m.eval_duration)}`);
    lines.push(`eval rate:            ${rate(m.eval_count ?? 0, m.eval_duration)}`);
  }
  return lines.map((l) => `${l}\n`).join("");
}
