/**
 * Inter-token latency as a streaming client sees it: the gaps between consecutive chunks of a
 * stream at 50 tokens/s (the simulated engine), in one process (`pnpm start`: the in-memory
 * transport) and over Redis (one gateway, one worker), at a few concurrencies. At 50 tokens/s the
 * ideal gap is 20 ms; what batching adds shows in the spread (p99), and in the added per-token
 * latency (arrival at the client − the time the engine stamped into the token).
 */
import { machineFacts } from "../lib/machine.ts";
import { chunkGaps, closedLoop, generate, inWindow } from "../lib/load-client.ts";
import { writeReport } from "../lib/report.ts";
import { percentile, round } from "../lib/stats.ts";
import { lineChart } from "../lib/svg.ts";
import { SIM_MODEL, startSimCluster, warm } from "../lib/sim-cluster.ts";

export interface GapsParams {
  levels: number[];
  tokensPerSecond: number;
  /** tokens per streamed request */
  tokens: number;
  /** sequences of the one worker */
  numParallel: number;
  rampMs: number;
  durationMs: number;
}

export const GAPS_FULL: GapsParams = { levels: [1, 100, 250], tokensPerSecond: 50, tokens: 100, numParallel: 800, rampMs: 2500, durationMs: 8000 };

interface GapsRow {
  topology: string;
  streams: number;
  tokens_per_s: number;
  /** gaps measured */
  chunks: number;
  gap_ms_p50: number;
  gap_ms_p99: number;
  added_ms_p50: number;
  added_ms_p99: number;
  errors: number;
}

const TOPOLOGIES = [
  { name: "one process", single: true },
  { name: "over Redis", single: false },
] as const;

export async function runGaps(params: GapsParams, options: { command: string; outDir?: string }) {
  const machine = machineFacts();
  const rows: GapsRow[] = [];
  for (const topology of TOPOLOGIES) {
    const cluster = await startSimCluster({ single: topology.single, workers: 1, numParallel: params.numParallel, tokensPerSecond: params.tokensPerSecond, stamp: true });
    try {
      await warm(cluster.url, 1, 4, () => generate(cluster.url, { model: SIM_MODEL, prompt: "hi", stream: false, options: { num_predict: 4 } }, false));
      for (const streams of params.levels) {
        const loop = await closedLoop(streams, params.rampMs, params.durationMs, () =>
          generate(cluster.url, { model: SIM_MODEL, prompt: "Tell me a story", options: { num_predict: params.tokens } }, true),
        );
        const gaps = chunkGaps(loop);
        const { tokens, latencies } = inWindow(loop);
        rows.push({
          topology: topology.name,
          streams,
          tokens_per_s: round(tokens / (params.durationMs / 1000)),
          chunks: gaps.length,
          gap_ms_p50: round(percentile(gaps, 0.5)),
          gap_ms_p99: round(percentile(gaps, 0.99)),
          added_ms_p50: round(percentile(latencies, 0.5)),
          added_ms_p99: round(percentile(latencies, 0.99)),
          errors: loop.results.filter((r) => !r.ok).length,
        });
        console.error(`[gaps] ${JSON.stringify(rows.at(-1))}`);
      }
    } finally {
      await cluster.stop();
    }
  }
  const ideal = 1000 / params.tokensPerSecond;
  const dir = await writeReport(
    {
      scenario: "gaps",
      command: options.command,
      machine,
      parameters: { ...params },
      results: rows,
      notes: [
        `Gap = time between two consecutive streamed chunks (NDJSON lines with text) of one request at the client, both inside the measured window; at ${params.tokensPerSecond} tokens/s the ideal is ${ideal} ms. Chunks that arrive in one socket read count a gap of 0.`,
        "Added = arrival of a token's line at the client − the time the simulated engine stamped into the token (CARAVAN_SIM_STAMP=1, one clock).",
      ],
      table: {
        headers: ["path", "streams", "tokens/s", "chunks", "gap p50 (ms)", "gap p99 (ms)", "added p50 (ms)", "added p99 (ms)", "errors"],
        numeric: [1, 2, 3, 4, 5, 6, 7, 8],
        rows: rows.map((r) => [r.topology, r.streams, r.tokens_per_s, r.chunks, r.gap_ms_p50, r.gap_ms_p99, r.added_ms_p50, r.added_ms_p99, r.errors]),
      },
      charts: {
        "gaps.svg": lineChart({
          title: `Gap between streamed chunks at ${params.tokensPerSecond} tokens/s (p99)`,
          xLabel: "concurrent streams",
          yLabel: "ms",
          logX: true,
          series: [
            ...TOPOLOGIES.map((t) => ({ name: t.name, points: rows.filter((r) => r.topology === t.name).map((r): [number, number] => [r.streams, r.gap_ms_p99]) })),
            { name: `ideal ${ideal} ms`, dashed: true, points: params.levels.map((l): [number, number] => [l, ideal]) },
          ],
        }),
      },
    },
    options.outDir,
  );
  return { dir, rows };
}
