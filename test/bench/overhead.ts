/**
 * Overhead of caravan over node-llama-cpp on the real engine (stories260K, same prompt,
 * greedy, 256 tokens): (a) node-llama-cpp called directly, (b) caravan in one process,
 * (c) caravan over Redis with gateway and worker in separate processes.
 * TTFT = request start → first non-empty text at the client; decode tok/s = tokens after the
 * first / time from first to last text. Median of RUNS runs after one warm-up each.
 *
 *   pnpm bench:overhead            (RUNS=9 by default; results in bench-results/overhead.json)
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { getLlama, LlamaChatSession } from "node-llama-cpp";
import { startRedisCluster, startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { ndjsonLines, postJson } from "../harness/ndjson.ts";
import { MODELS_DIR, ROOT } from "../harness/processes.ts";

const RUNS = Number(process.env.RUNS ?? 9);
const TOKENS = 256;
const PROMPT = "Once upon a time";

interface Sample {
  ttftMs: number;
  decodeTps: number;
  tokens: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const summarize = (samples: Sample[]) => ({
  ttft_ms_p50: median(samples.map((s) => s.ttftMs)),
  decode_tps_p50: median(samples.map((s) => s.decodeTps)),
  tokens: samples[0]!.tokens,
  runs: samples.length,
});

async function direct(): Promise<Sample[]> {
  const llama = await getLlama({ gpu: false, maxThreads: 1 });
  const model = await llama.loadModel({ modelPath: path.join(MODELS_DIR, "stories260K.gguf") });
  const context = await model.createContext({ contextSize: 2048, threads: 1 });
  const samples: Sample[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const sequence = context.getSequence();
    const session = new LlamaChatSession({ contextSequence: sequence });
    const start = performance.now();
    let first = 0;
    let last = 0;
    let tokens = 0;
    await session.prompt(PROMPT, {
      temperature: 0,
      maxTokens: TOKENS,
      onToken: () => {
        const now = performance.now();
        if (tokens === 0) first = now;
        last = now;
        tokens++;
      },
    });
    session.dispose();
    sequence.dispose();
    if (run > 0) samples.push({ ttftMs: first - start, decodeTps: (tokens - 1) / ((last - first) / 1000), tokens });
  }
  await context.dispose();
  await model.dispose();
  await llama.dispose();
  return samples;
}

async function throughCaravan(deployment: Deployment): Promise<Sample[]> {
  const url = deployment.gatewayUrls[0]!;
  const samples: Sample[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const start = performance.now();
    const response = await postJson(`${url}/api/chat`, { model: "stories260K", messages: [{ role: "user", content: PROMPT }], options: { temperature: 0, num_predict: TOKENS } });
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
    if (run > 0) samples.push({ ttftMs: first - start, decodeTps: (evalCount - 1) / ((last - first) / 1000), tokens: evalCount });
  }
  return samples;
}

const results: Record<string, ReturnType<typeof summarize>> = {};
results.direct = summarize(await direct());
const single = await startSingleProcess({ CARAVAN_LOG_LEVEL: "warn" });
try {
  results.in_process = summarize(await throughCaravan(single));
} finally {
  await single.stop();
}
const cluster = await startRedisCluster({ gateways: 1, workers: 1, env: { CARAVAN_LOG_LEVEL: "warn" } });
try {
  results.redis = summarize(await throughCaravan(cluster));
} finally {
  await cluster.stop();
}

const base = results.direct;
const ratios = Object.fromEntries(
  Object.entries(results).map(([name, r]) => [name, { ttft_ratio: +(r.ttft_ms_p50 / base.ttft_ms_p50).toFixed(2), decode_ratio: +(r.decode_tps_p50 / base.decode_tps_p50).toFixed(2) }]),
);
const machine = { cores: os.availableParallelism(), cpu: os.cpus()[0]?.model, memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1), node: process.version, date: new Date().toISOString() };
const report = { command: "pnpm bench:overhead", runs: RUNS, tokens: TOKENS, prompt: PROMPT, machine, results, ratios };
await fs.mkdir(path.join(ROOT, "bench-results"), { recursive: true });
await fs.writeFile(path.join(ROOT, "bench-results/overhead.json"), `${JSON.stringify(report, null, 2)}\n`);

console.log(`| path | TTFT p50 (ms) | decode tok/s p50 | TTFT ÷ direct | decode ÷ direct |`);
console.log(`| --- | ---: | ---: | ---: | ---: |`);
for (const [name, r] of Object.entries(results)) {
  console.log(`| ${name} | ${r.ttft_ms_p50.toFixed(2)} | ${r.decode_tps_p50.toFixed(0)} | ${ratios[name]!.ttft_ratio} | ${ratios[name]!.decode_ratio} |`);
}
console.log(JSON.stringify(machine));
