import fs from "node:fs/promises";
import path from "node:path";
import { ROOT } from "../../harness/processes.ts";
import type { MachineFacts } from "./machine.ts";

export const RESULTS_DIR = path.join(ROOT, "bench-results");

export interface Table {
  headers: string[];
  /** right-aligned columns (numbers) by index */
  numeric?: number[];
  rows: Array<Array<string | number>>;
}

export function markdownTable(table: Table): string {
  const align = table.headers.map((_, i) => (table.numeric?.includes(i) ? "---:" : "---"));
  const line = (cells: Array<string | number>) => `| ${cells.map(String).join(" | ")} |`;
  return [line(table.headers), line(align), ...table.rows.map(line)].join("\n");
}

export interface ScenarioReport {
  scenario: string;
  /** the exact command that produced it */
  command: string;
  machine: MachineFacts;
  parameters: Record<string, unknown>;
  results: unknown;
  /** what the numbers say, in a sentence or two each: targets, limits */
  notes: string[];
  table: Table;
  /** file name → SVG text */
  charts: Record<string, string>;
}

/** Writes results.json, results.md and the charts under `dir` (default bench-results/<scenario>/). Returns the folder. */
export async function writeReport(report: ScenarioReport, dir = path.join(RESULTS_DIR, report.scenario)): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const { table, charts, ...json } = report;
  await fs.writeFile(path.join(dir, "results.json"), `${JSON.stringify({ ...json, table }, null, 2)}\n`);
  const m = report.machine;
  const md = [
    `# ${report.scenario}`,
    "",
    `Command: \`${report.command}\``,
    "",
    `Machine: ${m.cores} cores (${m.cpu}), ${m.memory_gib} GiB, Node ${m.node}, ${m.platform}; ${m.date}; load average at start ${m.loadavg_at_start.join(" / ")}.`,
    "",
    `Parameters: ${Object.entries(report.parameters).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}`,
    "",
    markdownTable(table),
    "",
    ...report.notes.map((n) => `- ${n}`),
    "",
    ...Object.keys(charts).map((name) => `![${name}](${name})`),
    "",
  ].join("\n");
  await fs.writeFile(path.join(dir, "results.md"), md);
  for (const [name, svg] of Object.entries(charts)) await fs.writeFile(path.join(dir, name), svg);
  return dir;
}
