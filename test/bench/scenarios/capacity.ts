/**
 * Gateway capacity: one gateway over Redis, simulated workers (timers, no model), concurrency
 * swept from 1 stream up. Per level: aggregate tokens/s against ideal (streams × rate), the added
 * per-token latency (arrival at the client − generation time stamped by the simulated engine, same
 * machine and clock), TTFT, and the gateway's CPU and RSS. Then short requests/s (num_predict 1).
 */
import { cpuSeconds, machineFacts, rssMiB } from "../lib/machine.ts";
import { chunkGaps, closedLoop, generate, inWindow } from "../lib/load-client.ts";
import { writeReport } from "../lib/report.ts";
import { percentile, round } from "../lib/stats.ts";
import { lineChart } from "../lib/svg.ts";
import { SIM_MODEL, startSimCluster, warm } from "../lib/sim-cluster.ts";

export interface CapacityParams {
  workers: number;
  /** sequences per worker */
  numParallel: number;
  tokensPerSecond: number;
  levels: number[];
  /** tokens per streamed request */
  tokens: number;
  rampMs: number;
  durationMs: number;
  shortConcurrency: number;
  shortDurationMs: number;
}

export const CAPACITY_FULL: CapacityParams = {
  workers: 2,
  numParallel: 800,
  tokensPerSecond: 50,
  levels: [1, 10, 100, 250, 500, 1000, 1200],
  tokens: 100,
  rampMs: 2500,
  durationMs: 8000,
  shortConcurrency: 200,
  shortDurationMs: 6000,
};

export async function runCapacity(params: CapacityParams, options: { command: string; outDir?: string }) {
  const machine = machineFacts();
  const cluster = await startSimCluster({ workers: params.workers, numParallel: params.numParallel, tokensPerSecond: params.tokensPerSecond, stamp: true });
  const levels = [];
  let short;
  try {
    const oneToken = () => generate(cluster.url, { model: SIM_MODEL, prompt: "hi", stream: false, options: { num_predict: 1 } }, false);
    await warm(cluster.url, params.workers, params.workers * params.numParallel + params.workers * 2, () =>
      generate(cluster.url, { model: SIM_MODEL, prompt: "hi", stream: false, options: { num_predict: params.tokensPerSecond } }, false),
    );
    const stream = () => generate(cluster.url, { model: SIM_MODEL, prompt: "Tell me a story", options: { num_predict: params.tokens } }, true);
    const cpu = () => ({ gw: cpuSeconds(cluster.gatewayPid) ?? 0, wk: cluster.workerPids.reduce((s, p) => s + (cpuSeconds(p) ?? 0), 0), redis: cpuSeconds(cluster.redis!.child.pid!) ?? 0, client: cpuSeconds(process.pid) ?? 0, t: performance.now() });
    for (const concurrency of params.levels) {
      const before = cpu();
      const loop = await closedLoop(concurrency, params.rampMs, params.durationMs, stream);
      const after = cpu();
      const secs = (after.t - before.t) / 1000;
      const { tokens, latencies } = inWindow(loop);
      const gaps = chunkGaps(loop);
      const errors = loop.results.filter((r) => !r.ok).length;
      levels.push({
        concurrency,
        tokens_per_s: round(tokens / (params.durationMs / 1000)),
        ideal_tokens_per_s: concurrency * params.tokensPerSecond,
        added_ms_p50: round(percentile(latencies, 0.5)),
        added_ms_p99: round(percentile(latencies, 0.99)),
        ttft_ms_p50: round(percentile(loop.results.map((r) => r.ttftMs).filter(Number.isFinite), 0.5)),
        // between a stream's consecutive chunks at the client (the ideal at 50 tokens/s: 20 ms)
        gap_ms_p50: round(percentile(gaps, 0.5)),
        gap_ms_p99: round(percentile(gaps, 0.99)),
        requests: loop.results.length,
        errors,
        first_error: loop.results.find((r) => !r.ok)?.error,
        gateway_cpu_pct: round(((after.gw - before.gw) / secs) * 100),
        workers_cpu_pct: round(((after.wk - before.wk) / secs) * 100),
        redis_cpu_pct: round(((after.redis - before.redis) / secs) * 100),
        // this process is the load generator, which shares the machine with what it measures
        client_cpu_pct: round(((after.client - before.client) / secs) * 100),
        gateway_rss_mib: rssMiB(cluster.gatewayPid),
      });
      console.error(`[capacity] ${JSON.stringify(levels.at(-1))}`);
    }
    const before = cpu();
    const loop = await closedLoop(params.shortConcurrency, Math.min(1000, params.shortDurationMs / 4), params.shortDurationMs, oneToken);
    const after = cpu();
    short = {
      concurrency: params.shortConcurrency,
      requests_per_s: round(loop.finishedInWindow / (params.shortDurationMs / 1000)),
      errors: loop.results.filter((r) => !r.ok).length,
      first_error: loop.results.find((r) => !r.ok)?.error,
      gateway_cpu_pct: round(((after.gw - before.gw) / ((after.t - before.t) / 1000)) * 100),
      gateway_rss_mib: rssMiB(cluster.gatewayPid),
    };
    console.error(`[capacity] short ${JSON.stringify(short)}`);
  } finally {
    await cluster.stop();
  }
  const top = levels.at(-1)!;
  const saturated = levels.find((l) => l.added_ms_p99 > 20 || l.tokens_per_s < 0.9 * l.ideal_tokens_per_s);
  const notes = [
    `Added per-token latency = arrival of the token's NDJSON line at the client − the wall-clock time the simulated engine stamped into the token when it produced it (CARAVAN_SIM_STAMP=1; all processes on one machine share the clock). It covers the worker's chunk batching and publish, Redis pub/sub, the gateway and HTTP, and the client's own parsing.`,
    `At ${top.concurrency} streams: ${top.tokens_per_s} tokens/s of an ideal ${top.ideal_tokens_per_s}, added p50 ${top.added_ms_p50} ms / p99 ${top.added_ms_p99} ms (target ≥ 1,000 streams with p99 ≤ 20 ms: ${top.concurrency >= 1000 && top.added_ms_p99 <= 20 ? "met" : "missed"}).`,
    saturated
      ? `First level past the target (p99 > 20 ms or < 90 % of ideal tokens/s): ${saturated.concurrency} streams (gateway CPU ${saturated.gateway_cpu_pct} %, workers ${saturated.workers_cpu_pct} %, Redis ${saturated.redis_cpu_pct} % of one core).`
      : `No level went past p99 20 ms or below 90 % of ideal tokens/s.`,
    `Short requests (num_predict 1, not streamed, ${short!.concurrency} clients): ${short!.requests_per_s}/s (target ≥ 1,000: ${short!.requests_per_s >= 1000 ? "met" : "missed"}); one request spends 1000/${params.tokensPerSecond} ms in the simulated decode.`,
  ];
  const dir = await writeReport(
    {
      scenario: "capacity",
      command: options.command,
      machine,
      parameters: { ...params },
      results: { levels, short },
      notes,
      table: {
        headers: ["streams", "tokens/s", "ideal", "added p50 (ms)", "added p99 (ms)", "TTFT p50 (ms)", "gap p50 (ms)", "gap p99 (ms)", "errors", "gateway CPU %", "workers CPU %", "Redis CPU %", "client CPU %", "gateway RSS (MiB)"],
        numeric: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
        rows: levels.map((l) => [l.concurrency, l.tokens_per_s, l.ideal_tokens_per_s, l.added_ms_p50, l.added_ms_p99, l.ttft_ms_p50, l.gap_ms_p50, l.gap_ms_p99, l.errors, l.gateway_cpu_pct, l.workers_cpu_pct, l.redis_cpu_pct, l.client_cpu_pct, l.gateway_rss_mib ?? "?"]),
      },
      charts: {
        "latency.svg": lineChart({
          title: "Added per-token latency vs concurrent streams",
          xLabel: "concurrent streams",
          yLabel: "ms",
          logX: true,
          series: [
            { name: "p50", points: levels.map((l) => [l.concurrency, l.added_ms_p50]) },
            { name: "p99", points: levels.map((l) => [l.concurrency, l.added_ms_p99]) },
            { name: "target p99 20 ms", dashed: true, points: levels.map((l) => [l.concurrency, 20]) },
          ],
        }),
        "throughput.svg": lineChart({
          title: "Tokens/s through one gateway",
          xLabel: "concurrent streams",
          yLabel: "tokens/s",
          logX: true,
          series: [
            { name: "measured", points: levels.map((l) => [l.concurrency, l.tokens_per_s]) },
            { name: "ideal", dashed: true, points: levels.map((l) => [l.concurrency, l.ideal_tokens_per_s]) },
          ],
        }),
      },
    },
    options.outDir,
  );
  return { dir, levels, short };
}
