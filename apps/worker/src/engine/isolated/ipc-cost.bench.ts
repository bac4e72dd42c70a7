/**
 * The cost of the runner's IPC hop: IsolatedEngine (CARAVAN_ISOLATION=process) against LlamaEngine
 * in process (none), stories260K, greedy, 256 tokens, RUNS runs each after a warm-up, taking turns.
 * TTFT = call → first text; decode tok/s = (tokens − 1) / (first → last text). Medians.
 *
 *   node --import tsx apps/worker/src/engine/isolated/ipc-cost.bench.ts     (RUNS=10)
 */
import os from "node:os";
import { findModel, scanModels } from "../../catalog/catalog.ts";
import { TEST_MODELS_DIR } from "../../catalog/test-models.ts";
import type { LoadedModel } from "../engine-api.ts";
import { LlamaEngine } from "../engine.ts";
import { loadModel } from "../../testing/engines.ts";
import { IsolatedEngine } from "./isolated-engine.ts";

const RUNS = Number(process.env.RUNS ?? 10);
const TOKENS = 256;

async function main(): Promise<void> {
  const entry = findModel(await scanModels(TEST_MODELS_DIR), "stories260K")!;
  const config = { threads: 1, numParallel: 1, gpu: false as const, defaultNumCtx: 2048 };
  const engines = { process: await IsolatedEngine.create(config), none: await LlamaEngine.create(config) };
  const models: Record<string, LoadedModel> = { process: await loadModel(engines.process, entry), none: await loadModel(engines.none, entry) };
  const samples: Record<string, { ttftMs: number; tps: number }[]> = { process: [], none: [] };
  const once = async (model: LoadedModel) => {
    const start = performance.now();
    let first = 0;
    let last = 0;
    const result = await model.generate({
      messages: [{ role: "user", content: "Once upon a time" }],
      options: { temperature: 0, num_predict: TOKENS },
      signal: new AbortController().signal,
      onText: (text) => {
        if (!text) return;
        last = performance.now();
        first ||= last;
      },
    });
    return { ttftMs: first - start, tps: (result.metrics.eval_count - 1) / ((last - first) / 1000) };
  };
  for (const model of Object.values(models)) await once(model);
  for (let i = 0; i < RUNS; i++) for (const [name, model] of Object.entries(models)) samples[name]!.push(await once(model));
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  for (const [name, s] of Object.entries(samples)) {
    console.log(`CARAVAN_ISOLATION=${name}: TTFT p50 ${median(s.map((x) => x.ttftMs)).toFixed(2)} ms, decode p50 ${median(s.map((x) => x.tps)).toFixed(0)} tok/s (${RUNS} runs)`);
  }
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  await Promise.all(Object.values(engines).map((e) => e.close()));
}

await main();
