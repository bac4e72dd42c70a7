import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCapacity } from "./scenarios/capacity.ts";
import { runGaps } from "./scenarios/gaps.ts";
import { runMemory } from "./scenarios/memory.ts";
import { runParallel } from "./scenarios/parallel.ts";
import { runScaling } from "./scenarios/scaling.ts";
import { runOverhead, runRouting } from "./scenarios/scripted.ts";

/** Each benchmark scenario at a tiny size, so `pnpm bench` cannot rot; results go to a temporary folder. */
const out = await fs.mkdtemp(path.join(os.tmpdir(), "caravan-bench-"));
afterAll(() => fs.rm(out, { recursive: true, force: true }));

async function expectReport(dir: string, charts: string[], headers: string[]) {
  const json = JSON.parse(await fs.readFile(path.join(dir, "results.json"), "utf8")) as { command: string; machine: { cores: number; node: string; loadavg_at_start: number[] } };
  expect(json.command).toBe("smoke");
  expect(json.machine.cores).toBeGreaterThan(0);
  expect(json.machine.node).toBe(process.version);
  expect(json.machine.loadavg_at_start).toHaveLength(3);
  const md = await fs.readFile(path.join(dir, "results.md"), "utf8");
  for (const header of headers) expect(md).toContain(header);
  for (const chart of charts) {
    const svg = await fs.readFile(path.join(dir, chart), "utf8");
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain("<polyline");
    expect(md).toContain(`](${chart})`);
  }
}

describe("bench scenarios (smoke size)", () => {
  it("capacity: streams through one gateway and simulated workers, with stamped per-token latency", async () => {
    const { dir, levels, short } = await runCapacity(
      { workers: 1, numParallel: 8, tokensPerSecond: 100, levels: [1, 4], tokens: 10, rampMs: 200, durationMs: 800, shortConcurrency: 4, shortDurationMs: 800 },
      { command: "smoke", outDir: path.join(out, "capacity") },
    );
    expect(levels.map((l) => l.errors)).toEqual([0, 0]);
    expect(levels[1]!.tokens_per_s).toBeGreaterThan(100);
    expect(levels[1]!.added_ms_p50).toBeGreaterThanOrEqual(0);
    expect(short!.errors).toBe(0);
    expect(short!.requests_per_s).toBeGreaterThan(10);
    expect(levels[1]!.gap_ms_p50).toBeGreaterThan(0);
    await expectReport(dir, ["latency.svg", "throughput.svg"], ["added p99 (ms)", "gap p99 (ms)", "gateway RSS (MiB)"]);
  });

  it("gaps: the time between streamed chunks, in one process and over Redis", async () => {
    const { dir, rows } = await runGaps({ levels: [1, 4], tokensPerSecond: 100, tokens: 10, numParallel: 8, rampMs: 200, durationMs: 800 }, { command: "smoke", outDir: path.join(out, "gaps") });
    expect(rows.map((r) => [r.topology, r.streams, r.errors])).toEqual([
      ["one process", 1, 0],
      ["one process", 4, 0],
      ["over Redis", 1, 0],
      ["over Redis", 4, 0],
    ]);
    // one stream at 100 tokens/s: a chunk every ~10 ms
    for (const row of rows.filter((r) => r.streams === 1)) expect(row.gap_ms_p50).toBeGreaterThan(5);
    await expectReport(dir, ["gaps.svg"], ["gap p99 (ms)", "added p99 (ms)"]);
  });

  it("memory: the gateway's and the worker's heap after GC, read every few requests", async () => {
    const { dir, readings, retained, errors } = await runMemory({ requests: 300, step: 100, concurrency: 4, warmup: 50 }, { command: "smoke", outDir: path.join(out, "memory") });
    expect(errors).toBe(0);
    expect(readings.map((r) => r.requests)).toEqual([0, 100, 200, 300]);
    for (const r of readings) {
      // a Node process running caravan: tens of MiB of heap, and its RSS above that
      for (const heap of [r.gateway_heap_bytes, r.worker_heap_bytes]) expect(heap).toBeGreaterThan(5 * 2 ** 20);
      expect(r.gateway_rss_bytes).toBeGreaterThan(r.gateway_heap_bytes);
      expect(r.worker_rss_bytes).toBeGreaterThan(r.worker_heap_bytes);
    }
    expect(Number.isFinite(retained.gateway_bytes_per_request)).toBe(true);
    expect(Number.isFinite(retained.worker_bytes_per_request)).toBe(true);
    await expectReport(dir, ["heap.svg"], ["gateway heap (MiB)", "worker RSS (MiB)"]);
  });

  it("scaling: aggregate tokens/s for 1 and 2 simulated workers", async () => {
    const { dir, results } = await runScaling({ workerCounts: [1, 2], numParallel: 2, tokensPerSecond: 100, tokens: 10, rampMs: 200, durationMs: 800 }, { command: "smoke", outDir: path.join(out, "scaling") });
    expect(results.map((r) => r.errors)).toEqual([0, 0]);
    expect(results[1]!.tokens_per_s).toBeGreaterThan(results[0]!.tokens_per_s);
    await expectReport(dir, ["scaling.svg"], ["% of linear"]);
  });

  it("parallel: caravan vs node-llama-cpp directly on the real engine", async () => {
    const { dir, rows } = await runParallel({ sequences: [1, 2], tokens: 16, runs: 1, warmup: 2 }, { command: "smoke", outDir: path.join(out, "parallel") });
    for (const row of rows) {
      expect(row.direct_tokens_per_s).toBeGreaterThan(0);
      expect(row.direct_staggered_tokens_per_s).toBeGreaterThan(0);
      expect(row.caravan_tokens_per_s).toBeGreaterThan(0);
    }
    await expectReport(dir, ["parallel.svg"], ["caravan ÷ direct", "direct, staggered tokens/s"]);
  });

  it("overhead: direct vs one process vs over Redis on the real engine", async () => {
    const { dir, ratios } = await runOverhead({ runs: 1, warmup: 2 }, { command: "smoke", outDir: path.join(out, "overhead") });
    expect(Object.keys(ratios).sort()).toEqual(["direct", "in_process", "in_process_runner", "redis"]);
    await expectReport(dir, [], ["decode ÷ direct"]);
  });

  it("routing: caravan's placement vs round-robin in simulated time", async () => {
    const { dir, results } = await runRouting({ requests: 30, loadMs: 500 }, { command: "smoke", outDir: path.join(out, "routing") });
    expect(results.caravan!.completed).toBe(30);
    await expectReport(dir, [], ["model loads"]);
  });
});
