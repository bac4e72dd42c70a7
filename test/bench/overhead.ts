/**
 * Overhead of caravan over node-llama-cpp on the real engine (stories260K, same prompt,
 * greedy, 256 tokens): node-llama-cpp called directly; caravan in one process (`pnpm start`
 * with CARAVAN_ISOLATION=none: literally one process); `pnpm start` as it ships (each model in a
 * runner process); caravan over Redis with gateway, worker and runner in separate processes.
 * TTFT = request start → first non-empty text at the client; decode tok/s = tokens after the
 * first / time from first to last text. Median and p95 of RUNS runs, the paths taking turns.
 *
 * Warm-up: WARMUP short requests per caravan path (and as many short direct generations) before
 * measuring. A server that has been serving runs its per-request code optimized by V8; the
 * first few hundred requests run it in the interpreter, and measured then, each request paid
 * ~2.5 ms more (9.2 → 6.6 ms to first text after 300 requests, 4.3 ms after 3,000).
 *
 *   pnpm bench:overhead            (RUNS=15, WARMUP=1000 by default; results in bench-results/overhead.json)
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getLlama, LlamaChat } from "node-llama-cpp";
import { PlainChatWrapper, toChatHistory } from "@caravan/worker";
import { startRedisCluster, startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { MODELS_DIR, ROOT } from "../harness/processes.ts";
import { chat as streamChat } from "./lib/load-client.ts";

const RUNS = Number(process.env.RUNS ?? 15);
const WARMUP = Number(process.env.WARMUP ?? 1000);
const TOKENS = 256;
const PROMPT = "Once upon a time";

interface Sample {
  ttftMs: number;
  decodeTps: number;
  tokens: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.95) - 1]!;
const summarize = (samples: Sample[]) => ({
  ttft_ms_p50: median(samples.map((s) => s.ttftMs)),
  ttft_ms_p95: p95(samples.map((s) => s.ttftMs)),
  decode_tps_p50: median(samples.map((s) => s.decodeTps)),
  tokens: samples[0]!.tokens,
  runs: samples.length,
});

/** node-llama-cpp called directly, with the same chat format and sequence reuse as caravan's engine. */
async function openDirect() {
  const llama = await getLlama({ gpu: false, maxThreads: 1 });
  const model = await llama.loadModel({ modelPath: path.join(MODELS_DIR, "stories260K.gguf") });
  const context = await model.createContext({ contextSize: 2048, threads: 1 });
  const chat = new LlamaChat({ contextSequence: context.getSequence(), chatWrapper: new PlainChatWrapper() });
  const history = toChatHistory([{ role: "user", content: PROMPT }]);
  return {
    async run(maxTokens = TOKENS): Promise<Sample> {
      const start = performance.now();
      let first = 0;
      let last = 0;
      let tokens = 0;
      await chat.generateResponse(history, {
        temperature: 0,
        maxTokens,
        onTextChunk: () => {
          const now = performance.now();
          if (first === 0) first = now;
          last = now;
        },
        onToken: (chunk) => void (tokens += chunk.length),
      });
      return { ttftMs: first - start, decodeTps: (tokens - 1) / ((last - first) / 1000), tokens };
    },
    async close() {
      chat.dispose();
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

/** One streamed request through a caravan gateway, timed at the client (node:http; see load-client.ts). */
async function throughCaravan(deployment: Deployment, tokens = TOKENS): Promise<Sample> {
  const r = await streamChat(deployment.gatewayUrls[0]!, { model: "stories260K", messages: [{ role: "user", content: PROMPT }], options: { temperature: 0, num_predict: tokens } });
  if (!r.ok) throw new Error(`caravan request failed: ${r.error}`);
  return { ttftMs: r.ttftMs, decodeTps: (r.tokens - 1) / ((r.lastTextMs - r.ttftMs) / 1000), tokens: r.tokens };
}

// All paths stay up for the whole run and take turns, so that the machine's noise (2 shared
// cores) falls on each path alike; only the path being measured is busy at any moment.
const direct = await openDirect();
const single = await startSingleProcess({ CARAVAN_ISOLATION: "none" });
const isolated = await startSingleProcess();
const cluster = await startRedisCluster({ gateways: 1, workers: 1 });
const paths: Record<string, (tokens?: number) => Promise<Sample>> = {
  direct: (tokens) => direct.run(tokens),
  in_process: (tokens) => throughCaravan(single, tokens),
  in_process_runner: (tokens) => throughCaravan(isolated, tokens),
  redis: (tokens) => throughCaravan(cluster, tokens),
};
const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(paths).map((name) => [name, []]));
try {
  for (let i = 0; i < WARMUP; i++) for (const measure of Object.values(paths)) await measure(4);
  for (let run = 0; run <= RUNS; run++) {
    for (const [name, measure] of Object.entries(paths)) {
      const sample = await measure();
      if (run > 0) samples[name]!.push(sample); // run 0 warms up (model load, JIT)
    }
  }
} finally {
  await Promise.allSettled([direct.close(), single.stop(), isolated.stop(), cluster.stop()]);
}
const results = Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, summarize(list)]));

const base = results.direct!;
const ratios = Object.fromEntries(
  Object.entries(results).map(([name, r]) => [name, { ttft_ratio: +(r.ttft_ms_p50 / base.ttft_ms_p50).toFixed(2), decode_ratio: +(r.decode_tps_p50 / base.decode_tps_p50).toFixed(2) }]),
);
const machine = { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model, memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1), node: process.version, date: new Date().toISOString() };
const report = { command: "pnpm bench:overhead", runs: RUNS, warmup: WARMUP, tokens: TOKENS, prompt: PROMPT, machine, results, ratios };
// BENCH_JSON: where `pnpm bench` (test/bench/scenarios/scripted.ts) wants the results
const jsonPath = process.env.BENCH_JSON ?? path.join(ROOT, "bench-results/overhead.json");
await fs.mkdir(path.dirname(jsonPath), { recursive: true });
await fs.writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);

console.log(`| path | TTFT p50 (ms) | TTFT p95 (ms) | decode tok/s p50 | TTFT ÷ direct | decode ÷ direct |`);
console.log(`| --- | ---: | ---: | ---: | ---: | ---: |`);
for (const [name, r] of Object.entries(results)) {
  console.log(`| ${name} | ${r.ttft_ms_p50.toFixed(2)} | ${r.ttft_ms_p95.toFixed(2)} | ${r.decode_tps_p50.toFixed(0)} | ${ratios[name]!.ttft_ratio} | ${ratios[name]!.decode_ratio} |`);
}
console.log(JSON.stringify(machine));
