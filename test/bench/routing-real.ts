/**
 * The routing trace on real processes: one gateway, 3 workers over a private Redis, 5 model
 * names (symlinks to stories260K), at most 2 loaded per worker; requests arrive by a Poisson
 * process and ask for models with 1/rank popularity. Reports model loads (from the workers'
 * logs) and TTFT at the client. caravan's placement only: round-robin has no real counterpart
 * here (see routing-sim.ts for the side-by-side comparison).
 *
 *   pnpm bench:routing:real          (results in bench-results/routing-real.json)
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startRedisCluster } from "../harness/cluster.ts";
import { ndjsonLines, postJson } from "../harness/ndjson.ts";
import { ROOT } from "../harness/processes.ts";
import { tempModelsDir } from "../harness/scenario.ts";

const REQUESTS = Number(process.env.REQUESTS ?? 90);
const RATE_PER_S = Number(process.env.RATE ?? 3);
const NAMES = ["m1", "m2", "m3", "m4", "m5"];

let state = 42;
const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const weights = NAMES.map((_, i) => 1 / (i + 1));
const total = weights.reduce((a, b) => a + b, 0);

const models = await tempModelsDir(NAMES);
const cluster = await startRedisCluster({ gateways: 1, workers: 3, env: { CARAVAN_MODELS: models.dir, CARAVAN_MAX_LOADED_MODELS: "2", CARAVAN_NUM_PARALLEL: "4" } });
const url = cluster.gatewayUrls[0]!;
const ttfts: number[] = [];
try {
  const runs: Promise<void>[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    await new Promise((r) => setTimeout(r, (-Math.log(1 - random()) / RATE_PER_S) * 1000));
    let pick = random() * total;
    const model = NAMES[weights.findIndex((w) => (pick -= w) <= 0)] ?? NAMES[0]!;
    runs.push(
      (async () => {
        const start = performance.now();
        const response = await postJson(`${url}/api/chat`, { model, messages: [{ role: "user", content: "Once upon a time" }], options: { num_predict: 100 } });
        let first = 0;
        for await (const line of ndjsonLines(response)) if (!first && (line.message as { content?: string } | undefined)?.content) first = performance.now();
        ttfts.push(first - start);
      })(),
    );
  }
  await Promise.all(runs);
} finally {
  await cluster.stop();
  await models.remove();
}
const loads = cluster.workers.reduce((n, w) => n + w.logs.filter((l) => l.msg === "model loaded" && "contextSize" in l).length, 0);
const sorted = [...ttfts].sort((a, b) => a - b);
const q = (p: number) => +sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!.toFixed(1);
const report = { command: "pnpm bench:routing:real", requests: REQUESTS, rate_per_s: RATE_PER_S, workers: 3, max_loaded_models: 2, models: NAMES.length, model_loads: loads, ttft_ms_p50: q(0.5), ttft_ms_p95: q(0.95), machine: { cores: os.availableParallelism(), node: process.version } };
await fs.mkdir(path.join(ROOT, "bench-results"), { recursive: true });
await fs.writeFile(path.join(ROOT, "bench-results/routing-real.json"), `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report));
