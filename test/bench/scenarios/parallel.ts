/**
 * Parallel sequences on the real engine: N concurrent streams (stories260K, greedy, `tokens`
 * each) on one caravan process with N sequences (CARAVAN_NUM_PARALLEL=N, in-process transport)
 * against node-llama-cpp directly with one context of N sequences. Aggregate tokens/s = all
 * tokens generated ÷ wall time from the first request to the last answer; median of `runs`.
 */
import path from "node:path";
import { getLlama, LlamaChat } from "node-llama-cpp";
import { PlainChatWrapper, toChatHistory } from "@caravan/worker";
import { startSingleProcess } from "../../harness/cluster.ts";
import { MODELS_DIR } from "../../harness/processes.ts";
import { generate } from "../lib/load-client.ts";
import { machineFacts } from "../lib/machine.ts";
import { writeReport } from "../lib/report.ts";
import { median, round } from "../lib/stats.ts";
import { lineChart } from "../lib/svg.ts";

export interface ParallelParams {
  sequences: number[];
  tokens: number;
  runs: number;
  /** requests (of WARMUP_TOKENS) each side serves before measuring, N at a time */
  warmup: number;
}

export const PARALLEL_FULL: ParallelParams = { sequences: [1, 2, 4, 8], tokens: 256, runs: 5, warmup: 300 };
/** Tokens per warm-up request: enough to run every per-token path, few enough to be quick. */
const WARMUP_TOKENS = 32;
const PROMPT = "Once upon a time";
/** How far apart the staggered direct generations start (requests over HTTP arrive ~0.5–1 ms apart here). */
const STAGGER_MS = 1;

/** node-llama-cpp in this process: one context with n sequences, n LlamaChat generations at once. */
async function openDirect(n: number) {
  const llama = await getLlama({ gpu: false, maxThreads: 1 });
  const model = await llama.loadModel({ modelPath: path.join(MODELS_DIR, "stories260K.gguf") });
  const context = await model.createContext({ contextSize: 2048, threads: 1, sequences: n });
  const chats = Array.from({ length: n }, () => new LlamaChat({ contextSequence: context.getSequence(), chatWrapper: new PlainChatWrapper() }));
  const history = toChatHistory([{ role: "user", content: PROMPT }]);
  return {
    /** `staggerMs`: generation i starts i × staggerMs after the first, as requests arriving one by one do. */
    async run(tokens: number, staggerMs = 0): Promise<number> {
      let total = 0;
      const started = performance.now();
      await Promise.all(
        chats.map(async (chat, i) => {
          if (staggerMs > 0 && i > 0) await new Promise((resolve) => setTimeout(resolve, i * staggerMs));
          await chat.generateResponse(history, { temperature: 0, maxTokens: tokens, onToken: (t) => void (total += t.length) });
        }),
      );
      return total / ((performance.now() - started) / 1000);
    },
    async close() {
      for (const chat of chats) chat.dispose();
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

/** caravan in one process (`pnpm start`) with n sequences: n concurrent streamed requests. */
async function openCaravan(n: number) {
  const single = await startSingleProcess({ CARAVAN_NUM_PARALLEL: String(n) });
  const url = single.gatewayUrls[0]!;
  return {
    async run(tokens: number): Promise<number> {
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: n }, () => generate(url, { model: "stories260K", prompt: PROMPT, options: { temperature: 0, num_predict: tokens } }, false)));
      if (results.some((r) => !r.ok)) throw new Error(`caravan request failed: ${results.find((r) => !r.ok)?.error}`);
      return results.reduce((sum, r) => sum + r.tokens, 0) / ((performance.now() - started) / 1000);
    },
    close: () => single.stop(),
  };
}

/**
 * Both stay up and take turns, run by run, so that the machine's drift (2 shared cores whose
 * speed moved by a third within minutes) falls on both alike. Both first serve `warmup` short
 * requests, N at a time: a fresh caravan process (and its runner) runs its per-token code in
 * V8's interpreter at first, which cost it a quarter of its speed at 1 sequence against a direct
 * side warmed by the levels before; run 0 of each is not counted either.
 */
async function sideBySide(n: number, params: ParallelParams): Promise<{ direct: number[]; staggered: number[]; caravan: number[] }> {
  const { tokens, runs } = params;
  const direct = await openDirect(n);
  const caravan = await openCaravan(n);
  const rates = { direct: [] as number[], staggered: [] as number[], caravan: [] as number[] };
  try {
    for (let i = 0; i < Math.ceil(params.warmup / n); i++) {
      await direct.run(WARMUP_TOKENS);
      await caravan.run(WARMUP_TOKENS);
    }
    for (let run = 0; run <= runs; run++) {
      const d = await direct.run(tokens);
      const s = await direct.run(tokens, STAGGER_MS);
      const c = await caravan.run(tokens);
      if (run > 0) {
        rates.direct.push(d);
        rates.staggered.push(s);
        rates.caravan.push(c);
      }
    }
  } finally {
    await Promise.allSettled([direct.close(), caravan.close()]);
  }
  return rates;
}

export async function runParallel(params: ParallelParams, options: { command: string; outDir?: string }) {
  const machine = machineFacts();
  const rows = [];
  for (const n of params.sequences) {
    const rates = await sideBySide(n, params);
    const d = median(rates.direct);
    const s = median(rates.staggered);
    const c = median(rates.caravan);
    rows.push({ sequences: n, direct_tokens_per_s: round(d), direct_staggered_tokens_per_s: round(s), caravan_tokens_per_s: round(c), ratio: +(c / d).toFixed(2), ratio_to_staggered: +(c / s).toFixed(2) });
    console.error(`[parallel] ${JSON.stringify(rows.at(-1))}`);
  }
  const at4 = rows.find((r) => r.sequences === 4);
  const notes = [
    `caravan: one process (\`pnpm start\`, in-memory transport) with CARAVAN_NUM_PARALLEL = N and 1 thread, N concurrent streamed /api/generate requests; direct: node-llama-cpp in the benchmark's process, one context with N sequences, 1 thread, N LlamaChat generations at once. Same prompt, greedy, ${params.tokens} tokens each. Both serve ${params.warmup} warm-up requests of ${WARMUP_TOKENS} tokens (N at a time), then take turns run by run (median of ${params.runs} each, after one more warm-up run).`,
    at4 ? `At 4 sequences caravan reaches ${at4.ratio} × direct (target ≥ 0.9: ${at4.ratio >= 0.9 ? "met" : "missed"}).` : `4 sequences not run.`,
    `"direct, staggered": the same direct generations, started ${STAGGER_MS} ms apart, as N requests arriving over HTTP one after another reach the engine. node-llama-cpp batches the sequences whose next token is queued when a decode is dispatched; generations started in one tick stay in step and share every decode, generations started apart can fall into separate decodes, and on a model this small each decode's fixed cost dominates.`,
    `On 2 cores, llama.cpp's thread shares the machine with the caravan process's event loop (HTTP, chunk batching); the tiny model makes each token ~0.5 ms, so any per-token work shows.`,
  ];
  const dir = await writeReport(
    {
      scenario: "parallel",
      command: options.command,
      machine,
      parameters: { ...params, model: "stories260K.gguf", prompt: PROMPT },
      results: rows,
      notes,
      table: {
        headers: ["sequences", "direct tokens/s", "direct, staggered tokens/s", "caravan tokens/s", "caravan ÷ direct", "caravan ÷ direct staggered"],
        numeric: [0, 1, 2, 3, 4, 5],
        rows: rows.map((r) => [r.sequences, r.direct_tokens_per_s, r.direct_staggered_tokens_per_s, r.caravan_tokens_per_s, r.ratio, r.ratio_to_staggered]),
      },
      charts: {
        "parallel.svg": lineChart({
          title: "Aggregate tokens/s, one worker, N sequences (stories260K)",
          xLabel: "concurrent sequences",
          yLabel: "tokens/s",
          series: [
            { name: "node-llama-cpp direct", points: rows.map((r) => [r.sequences, r.direct_tokens_per_s]) },
            { name: `direct, starts ${STAGGER_MS} ms apart`, dashed: true, points: rows.map((r) => [r.sequences, r.direct_staggered_tokens_per_s]) },
            { name: "caravan", points: rows.map((r) => [r.sequences, r.caravan_tokens_per_s]) },
          ],
        }),
      },
    },
    options.outDir,
  );
  return { dir, rows };
}
