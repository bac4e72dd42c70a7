/**
 * The two scenarios that existed as standalone scripts — overhead (test/bench/overhead.ts, real
 * engine) and routing (test/bench/routing-sim.ts, simulated time) — run as child processes with
 * their sizes in the environment; their JSON is then turned into the common report (Markdown
 * table, SVG chart, machine facts) under bench-results/<scenario>/.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { ROOT } from "../../harness/processes.ts";
import { machineFacts } from "../lib/machine.ts";
import { RESULTS_DIR, writeReport } from "../lib/report.ts";
import { barChart } from "../lib/svg.ts";

async function runScript(file: string, env: Record<string, string>, jsonPath: string): Promise<any> {
  await fs.mkdir(path.dirname(jsonPath), { recursive: true });
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], { cwd: ROOT, env: { ...process.env, ...env, BENCH_JSON: jsonPath }, stdio: ["ignore", "inherit", "inherit"] });
    child.once("error", reject);
    child.once("exit", resolve);
  });
  if (code !== 0) throw new Error(`${file} exited with ${code}`);
  return JSON.parse(await fs.readFile(jsonPath, "utf8"));
}

type OverheadPath = { ttft_ms_p50: number; ttft_ms_p95: number; decode_tps_p50: number };

export async function runOverhead(params: { runs: number; warmup: number }, options: { command: string; outDir?: string }) {
  const machine = machineFacts();
  const dir = options.outDir ?? path.join(RESULTS_DIR, "overhead");
  const raw = await runScript("test/bench/overhead.ts", { RUNS: String(params.runs), WARMUP: String(params.warmup) }, path.join(dir, "raw.json"));
  const results = raw.results as Record<string, OverheadPath>;
  const ratios = raw.ratios as Record<string, { ttft_ratio: number; decode_ratio: number }>;
  const names = Object.keys(results);
  const added = (name: string) => +(results[name]!.ttft_ms_p50 - results.direct!.ttft_ms_p50).toFixed(2);
  const notes = [
    `stories260K, prompt "Once upon a time", greedy, 256 tokens, streamed; the paths take turns after ${params.warmup} short warm-up requests each (V8 optimizes per-request code only after some hundreds). TTFT = request start → first text at the client (node:http).`,
    "in_process: `pnpm start` with CARAVAN_ISOLATION=none, one process; in_process_runner: `pnpm start` as it ships, each model in a runner process; redis: gateway, worker and runner processes over a private redis-server.",
    ...names.filter((n) => n !== "direct").map((n) => `${n}: decode ${ratios[n]!.decode_ratio} × direct (target ≥ 0.95: ${ratios[n]!.decode_ratio >= 0.95 ? "met" : "missed"}), added TTFT p50 ${added(n)} ms (target ≤ 2: ${added(n) <= 2 ? "met" : "missed"}).`),
  ];
  await writeReport(
    {
      scenario: "overhead",
      command: options.command,
      machine,
      parameters: { runs: params.runs, warmup: params.warmup, tokens: raw.tokens, prompt: raw.prompt },
      results: { paths: results, ratios },
      notes,
      table: {
        headers: ["path", "TTFT p50 (ms)", "TTFT p95 (ms)", "added TTFT p50 (ms)", "decode tok/s p50", "decode ÷ direct"],
        numeric: [1, 2, 3, 4, 5],
        rows: names.map((n) => [n, results[n]!.ttft_ms_p50.toFixed(2), results[n]!.ttft_ms_p95.toFixed(2), added(n), Math.round(results[n]!.decode_tps_p50), ratios[n]!.decode_ratio]),
      },
      charts: {
        "decode.svg": barChart({ title: "Decode tokens/s (p50), stories260K", yLabel: "tokens/s", categories: names, series: [{ name: "decode tok/s", values: names.map((n) => results[n]!.decode_tps_p50) }] }),
        "ttft.svg": barChart({ title: "TTFT (ms)", yLabel: "ms", categories: names, series: [{ name: "p50", values: names.map((n) => results[n]!.ttft_ms_p50) }, { name: "p95", values: names.map((n) => results[n]!.ttft_ms_p95) }] }),
      },
    },
    dir,
  );
  return { dir, results, ratios };
}

type RoutingPolicy = { completed: number; model_loads: number; ttft_ms_p50: number; ttft_ms_p95: number; makespan_s: number };

export async function runRouting(params: { requests: number; loadMs: number }, options: { command: string; outDir?: string }) {
  const machine = machineFacts();
  const dir = options.outDir ?? path.join(RESULTS_DIR, "routing");
  const raw = await runScript("test/bench/routing-sim.ts", { REQUESTS: String(params.requests), LOAD_MS: String(params.loadMs) }, path.join(dir, "raw.json"));
  const results = raw.results as Record<string, RoutingPolicy>;
  const names = Object.keys(results);
  const ratio = results.caravan!.model_loads / results.round_robin!.model_loads;
  const notes = [
    "Simulated time: caravan's real Residency on each worker and the gateway's real place(), with a simulated engine; round-robin = request i to worker i mod N, each serving its own queue.",
    `caravan makes ${results.caravan!.model_loads} loads, ${(ratio * 100).toFixed(1)} % of round-robin's ${results.round_robin!.model_loads} (target ≤ 33 %: ${ratio <= 1 / 3 ? "met" : "missed"}).`,
  ];
  await writeReport(
    {
      scenario: "routing",
      command: options.command,
      machine,
      parameters: raw.conditions,
      results,
      notes,
      table: {
        headers: ["policy", "completed", "model loads", "TTFT p50 (ms)", "TTFT p95 (ms)", "makespan (s)"],
        numeric: [1, 2, 3, 4, 5],
        rows: names.map((n) => [n, results[n]!.completed, results[n]!.model_loads, results[n]!.ttft_ms_p50, results[n]!.ttft_ms_p95, results[n]!.makespan_s]),
      },
      charts: {
        "loads.svg": barChart({ title: "Model loads on the mixed trace", yLabel: "loads", categories: names, series: [{ name: "model loads", values: names.map((n) => results[n]!.model_loads) }] }),
        "ttft.svg": barChart({ title: "TTFT on the mixed trace (ms)", yLabel: "ms", categories: names, series: [{ name: "p50", values: names.map((n) => results[n]!.ttft_ms_p50) }, { name: "p95", values: names.map((n) => results[n]!.ttft_ms_p95) }] }),
      },
    },
    dir,
  );
  return { dir, results };
}
