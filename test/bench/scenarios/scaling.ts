/**
 * Horizontal scaling: 1, 2, 4, … simulated workers behind one gateway (over Redis), each with
 * `numParallel` sequences kept busy by as many client streams. Aggregate tokens/s against
 * linear (workers × the 1-worker figure) and against nominal (streams × rate).
 */
import { cpuSeconds, machineFacts } from "../lib/machine.ts";
import { closedLoop, generate, inWindow } from "../lib/load-client.ts";
import { writeReport } from "../lib/report.ts";
import { percentile, round } from "../lib/stats.ts";
import { lineChart } from "../lib/svg.ts";
import { SIM_MODEL, startSimCluster, warm } from "../lib/sim-cluster.ts";

export interface ScalingParams {
  workerCounts: number[];
  numParallel: number;
  tokensPerSecond: number;
  tokens: number;
  rampMs: number;
  durationMs: number;
}

export const SCALING_FULL: ScalingParams = { workerCounts: [1, 2, 4, 8, 16], numParallel: 16, tokensPerSecond: 50, tokens: 100, rampMs: 2500, durationMs: 8000 };

export async function runScaling(params: ScalingParams, options: { command: string; outDir?: string }) {
  const machine = machineFacts();
  const rows = [];
  for (const workers of params.workerCounts) {
    const cluster = await startSimCluster({ workers, numParallel: params.numParallel, tokensPerSecond: params.tokensPerSecond, stamp: true });
    try {
      await warm(cluster.url, workers, workers * params.numParallel + workers * 2, () =>
        generate(cluster.url, { model: SIM_MODEL, prompt: "hi", stream: false, options: { num_predict: params.tokensPerSecond } }, false),
      );
      const streams = workers * params.numParallel;
      const cpu = () => ({ gw: cpuSeconds(cluster.gatewayPid) ?? 0, wk: cluster.workerPids.reduce((s, p) => s + (cpuSeconds(p) ?? 0), 0), redis: cpuSeconds(cluster.redis!.child.pid!) ?? 0, t: performance.now() });
      const before = cpu();
      const loop = await closedLoop(streams, params.rampMs, params.durationMs, () =>
        generate(cluster.url, { model: SIM_MODEL, prompt: "Tell me a story", options: { num_predict: params.tokens } }, true),
      );
      const after = cpu();
      const secs = (after.t - before.t) / 1000;
      const { tokens, latencies } = inWindow(loop);
      rows.push({
        workers,
        streams,
        tokens_per_s: round(tokens / (params.durationMs / 1000)),
        nominal_tokens_per_s: streams * params.tokensPerSecond,
        added_ms_p99: round(percentile(latencies, 0.99)),
        errors: loop.results.filter((r) => !r.ok).length,
        gateway_cpu_pct: round(((after.gw - before.gw) / secs) * 100),
        workers_cpu_pct: round(((after.wk - before.wk) / secs) * 100),
        redis_cpu_pct: round(((after.redis - before.redis) / secs) * 100),
      });
      console.error(`[scaling] ${JSON.stringify(rows.at(-1))}`);
    } finally {
      await cluster.stop();
    }
  }
  const base = rows[0]!.tokens_per_s / rows[0]!.workers;
  const results = rows.map((r) => ({ ...r, linear_tokens_per_s: round(base * r.workers), of_linear_pct: round((r.tokens_per_s / (base * r.workers)) * 100) }));
  const last = results.at(-1)!;
  const notes = [
    `Linear = workers × the 1-worker figure; nominal = streams × ${params.tokensPerSecond} tokens/s (what the simulated engine produces when nothing is in the way).`,
    `At ${last.workers} workers: ${last.of_linear_pct} % of linear (target ≥ 90 % at 16: ${last.workers >= 16 ? (last.of_linear_pct >= 90 ? "met" : "missed") : "not run at 16"}). The simulated engine uses timers, not CPU, so what limits it is the per-token path — worker publish, Redis pub/sub, the gateway's HTTP writes — and, on this machine, all processes sharing its cores.`,
  ];
  const dir = await writeReport(
    {
      scenario: "scaling",
      command: options.command,
      machine,
      parameters: { ...params },
      results,
      notes,
      table: {
        headers: ["workers", "streams", "tokens/s", "linear", "% of linear", "nominal", "added p99 (ms)", "errors", "gateway CPU %", "workers CPU %", "Redis CPU %"],
        numeric: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        rows: results.map((r) => [r.workers, r.streams, r.tokens_per_s, r.linear_tokens_per_s, r.of_linear_pct, r.nominal_tokens_per_s, r.added_ms_p99, r.errors, r.gateway_cpu_pct, r.workers_cpu_pct, r.redis_cpu_pct]),
      },
      charts: {
        "scaling.svg": lineChart({
          title: "Aggregate tokens/s vs simulated workers",
          xLabel: "workers",
          yLabel: "tokens/s",
          series: [
            { name: "measured", points: results.map((r) => [r.workers, r.tokens_per_s]) },
            { name: "linear", dashed: true, points: results.map((r) => [r.workers, r.linear_tokens_per_s]) },
          ],
        }),
      },
    },
    options.outDir,
  );
  return { dir, results };
}
