/**
 * Memory kept per request: a gateway and a simulated worker over Redis serve a mix of requests
 * (chat and generate, streamed or not, a few tokens each) while the benchmark reads each
 * process's heap after full collections every `step` requests. The slope of those readings is
 * what a process keeps per request it served: anything above noise is a leak that a long-running
 * deployment pays for (Node 20's AbortSignal.any kept ~53 bytes per request in the engines until
 * round 9; RSS samples over minutes cannot show that much).
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { machineFacts } from "../lib/machine.ts";
import { chat, generate, type StreamResult } from "../lib/load-client.ts";
import { writeReport } from "../lib/report.ts";
import { round, slope } from "../lib/stats.ts";
import { lineChart } from "../lib/svg.ts";
import { SIM_MODEL, startSimCluster } from "../lib/sim-cluster.ts";

const HEAP_PROBE = fileURLToPath(new URL("../lib/heap-probe.cjs", import.meta.url));

/** Retained bytes per request above which a process is reported as leaking (the fixed leak was ~53). */
export const LEAK_BYTES_PER_REQUEST = 16;

export interface MemoryParams {
  /** requests measured, after the warm-up */
  requests: number;
  /** heap read every this many requests */
  step: number;
  concurrency: number;
  /** requests before the first reading (model load, V8's optimisation, pools filling) */
  warmup: number;
}

export const MEMORY_FULL: MemoryParams = { requests: 50_000, step: 10_000, concurrency: 16, warmup: 2_000 };

interface Reading {
  requests: number;
  gateway_heap_bytes: number;
  worker_heap_bytes: number;
  gateway_rss_bytes: number;
  worker_rss_bytes: number;
}

const mib = (bytes: number) => round(bytes / 2 ** 20);

export async function runMemory(params: MemoryParams, options: { command: string; outDir?: string }) {
  const machine = machineFacts();
  const heapDir = await fs.mkdtemp(path.join(os.tmpdir(), "caravan-heap-"));
  const cluster = await startSimCluster({
    workers: 1,
    numParallel: 64,
    // fast tokens: the requests, not the simulated decode, set the pace
    tokensPerSecond: 100_000,
    nodeArgs: ["--expose-gc", "--require", HEAP_PROBE],
    env: { BENCH_HEAP_DIR: heapDir, CARAVAN_SIM_LOAD_MS: "0" },
  });
  const readings: Reading[] = [];
  let errors = 0;
  let firstError: string | undefined;
  try {
    const heapOf = async (pid: number) => {
      const port = await fs.readFile(path.join(heapDir, String(pid)), "utf8");
      return (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as NodeJS.MemoryUsage;
    };
    const request = (i: number): Promise<StreamResult> =>
      i % 2 === 0
        ? chat(cluster.url, { model: SIM_MODEL, messages: [{ role: "user", content: "hi" }], stream: i % 4 === 0, options: { num_predict: 4 } })
        : generate(cluster.url, { model: SIM_MODEL, prompt: "hi", stream: i % 4 === 1, options: { num_predict: 4 } }, false);
    let sent = 0;
    const sendUntil = (target: number) =>
      Promise.all(
        Array.from({ length: params.concurrency }, async () => {
          while (sent < target) {
            const result = await request(sent++);
            if (!result.ok) {
              errors++;
              firstError ??= result.error;
            }
          }
        }),
      );
    await sendUntil(params.warmup);
    for (let done = 0; done <= params.requests; done += params.step) {
      await sendUntil(params.warmup + done);
      const [gateway, worker] = await Promise.all([heapOf(cluster.gatewayPid), heapOf(cluster.workerPids[0]!)]);
      readings.push({ requests: done, gateway_heap_bytes: gateway.heapUsed, worker_heap_bytes: worker.heapUsed, gateway_rss_bytes: gateway.rss, worker_rss_bytes: worker.rss });
      console.error(`[memory] ${done} requests: heap after GC ${mib(gateway.heapUsed)} MiB gateway, ${mib(worker.heapUsed)} MiB worker`);
    }
  } finally {
    await cluster.stop();
    await fs.rm(heapDir, { recursive: true, force: true });
  }

  const perRequest = (key: "gateway_heap_bytes" | "worker_heap_bytes") => round(slope(readings.map((r) => [r.requests, r[key]] as const)));
  const retained = { gateway_bytes_per_request: perRequest("gateway_heap_bytes"), worker_bytes_per_request: perRequest("worker_heap_bytes") };
  const verdict = (bytes: number) => (bytes > LEAK_BYTES_PER_REQUEST ? `above ${LEAK_BYTES_PER_REQUEST}: a leak` : `under ${LEAK_BYTES_PER_REQUEST}: no leak`);
  const notes = [
    `Heap after two full collections (--expose-gc, read through test/bench/lib/heap-probe.cjs), every ${params.step} requests after ${params.warmup} of warm-up; ${params.concurrency} clients; requests alternate chat and generate, streamed or not, num_predict 4, on a simulated worker at 100,000 tokens/s.`,
    `Retained per request (least-squares slope of the heap over requests): gateway ${retained.gateway_bytes_per_request} bytes (${verdict(retained.gateway_bytes_per_request)}), worker ${retained.worker_bytes_per_request} bytes (${verdict(retained.worker_bytes_per_request)}). Readings move by a few hundred KiB between collections, so short runs give noisy slopes; the full size spreads ${params.requests} requests over them.`,
    `Requests that failed: ${errors}${firstError ? ` (first: ${firstError})` : ""}.`,
  ];
  const dir = await writeReport(
    {
      scenario: "memory",
      command: options.command,
      machine,
      parameters: { ...params },
      results: { readings, retained, errors, first_error: firstError },
      notes,
      table: {
        headers: ["requests", "gateway heap (MiB)", "worker heap (MiB)", "gateway RSS (MiB)", "worker RSS (MiB)"],
        numeric: [0, 1, 2, 3, 4],
        rows: readings.map((r) => [r.requests, mib(r.gateway_heap_bytes), mib(r.worker_heap_bytes), mib(r.gateway_rss_bytes), mib(r.worker_rss_bytes)]),
      },
      charts: {
        "heap.svg": lineChart({
          title: "Heap after GC vs requests served",
          xLabel: "requests after warm-up",
          yLabel: "MiB",
          series: [
            { name: "gateway", points: readings.map((r) => [r.requests, mib(r.gateway_heap_bytes)]) },
            { name: "worker", points: readings.map((r) => [r.requests, mib(r.worker_heap_bytes)]) },
          ],
        }),
      },
    },
    options.outDir,
  );
  return { dir, readings, retained, errors };
}
