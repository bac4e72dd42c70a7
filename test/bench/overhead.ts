/**
 * Overhead of caravan over node-llama-cpp on the real engine (stories260K, same prompt,
 * greedy, 256 tokens): (a) node-llama-cpp called directly, (b) caravan in one process,
 * (c) caravan over Redis with gateway and worker in separate processes.
 * TTFT = request start → first non-empty text at the client; decode tok/s = tokens after the
 * first / time from first to last text. Median and p95 of RUNS runs after one warm-up, the
 * three paths taking turns.
 *
 *   pnpm bench:overhead            (RUNS=15 by default; results in bench-results/overhead.json)
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getLlama, LlamaChat } from "node-llama-cpp";
import { PlainChatWrapper, toChatHistory } from "@caravan/worker";
import { startRedisCluster, startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { ndjsonLines, postJson } from "../harness/ndjson.ts";
import { MODELS_DIR, ROOT } from "../harness/processes.ts";

const RUNS = Number(process.env.RUNS ?? 15);
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
    async run(): Promise<Sample> {
      const start = performance.now();
      let first = 0;
      let last = 0;
      let tokens = 0;
      await chat.generateResponse(history, {
        temperature: 0,
        maxTokens: TOKENS,
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

/** One streamed request through a caravan gateway, timed at the client. */
async function throughCaravan(deployment: Deployment): Promise<Sample> {
  const start = performance.now();
  const response = await postJson(`${deployment.gatewayUrls[0]}/api/chat`, { model: "stories260K", messages: [{ role: "user", content: PROMPT }], options: { temperature: 0, num_predict: TOKENS } });
  let first = 0;
  let last = 0;
  let evalCount = 0;
  for await (const line of ndjsonLines(response)) {
    const now = performance.now();
    if ((line.message as { content: string }).content) {
      if (first === 0) first = now;
      last = now;
    }
    if (line.done) evalCount = line.eval_count as number;
  }
  return { ttftMs: first - start, decodeTps: (evalCount - 1) / ((last - first) / 1000), tokens: evalCount };
}

// All three stay up for the whole run and take turns, so that the machine's noise (2 shared
// cores) falls on each path alike; only the path being measured is busy at any moment.
const direct = await openDirect();
const single = await startSingleProcess();
const cluster = await startRedisCluster({ gateways: 1, workers: 1 });
const paths: Record<string, () => Promise<Sample>> = {
  direct: () => direct.run(),
  in_process: () => throughCaravan(single),
  redis: () => throughCaravan(cluster),
};
const samples: Record<string, Sample[]> = { direct: [], in_process: [], redis: [] };
try {
  for (let run = 0; run <= RUNS; run++) {
    for (const [name, measure] of Object.entries(paths)) {
      const sample = await measure();
      if (run > 0) samples[name]!.push(sample); // run 0 warms up (model load, JIT)
    }
  }
} finally {
  await Promise.allSettled([direct.close(), single.stop(), cluster.stop()]);
}
const results = Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, summarize(list)]));

const base = results.direct!;
const ratios = Object.fromEntries(
  Object.entries(results).map(([name, r]) => [name, { ttft_ratio: +(r.ttft_ms_p50 / base.ttft_ms_p50).toFixed(2), decode_ratio: +(r.decode_tps_p50 / base.decode_tps_p50).toFixed(2) }]),
);
const machine = { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model, memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1), node: process.version, date: new Date().toISOString() };
const report = { command: "pnpm bench:overhead", runs: RUNS, tokens: TOKENS, prompt: PROMPT, machine, results, ratios };
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
