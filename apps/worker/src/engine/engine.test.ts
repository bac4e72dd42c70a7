import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage, ModelOptions } from "@caravan/protocol";
import { findModel, scanModels, type CatalogEntry } from "../catalog/catalog.ts";
import { TEST_MODELS_DIR } from "../catalog/test-models.ts";
import { engineResidency, loadModel } from "../testing/engines.ts";
import type { LoadedModel } from "./engine-api.ts";
import { LlamaEngine } from "./engine.ts";
import { EngineClosedError, GenerationAbortedError } from "./errors.ts";
import type { GenerateResult } from "./types.ts";

// One real engine for the file, on the tiny stories260K models (1 thread: fastest on 2 cores).
let engine: LlamaEngine;
let stories: CatalogEntry;
let chatml: CatalogEntry;
/** stories260K, loaded with the default load settings */
let model: LoadedModel;
const logs: { level: string; message: string; fields?: Record<string, unknown> }[] = [];

beforeAll(async () => {
  const entries = await scanModels(TEST_MODELS_DIR);
  stories = findModel(entries, "stories260K")!;
  chatml = findModel(entries, "stories260K-chatml")!;
  engine = await LlamaEngine.create({
    threads: 1,
    numParallel: 2,
    gpu: false,
    defaultNumCtx: 4096,
    log: (level, message, fields) => logs.push({ level, message, fields }),
  });
  model = await load(stories);
});

afterAll(async () => {
  await engine?.close();
});

const user = (content: string): ChatMessage[] => [{ role: "user", content }];
const load = (entry: CatalogEntry, options: ModelOptions = {}) => loadModel(engine, entry, options);

interface Run extends GenerateResult {
  pieces: string[];
}

async function generate(on: LoadedModel, messages: ChatMessage[], options: ModelOptions, signal = new AbortController().signal): Promise<Run> {
  const pieces: string[] = [];
  const result = await on.generate({ messages, options, signal, onText: (text) => pieces.push(text) });
  return { ...result, pieces };
}

const greedy = (n: number): ModelOptions => ({ temperature: 0, num_predict: n });

/** A generation that runs until aborted, and a promise of its first text: it holds a sequence from then on. */
function endless(on: LoadedModel, signal: AbortSignal) {
  let started!: () => void;
  const generating = new Promise<void>((resolve) => (started = resolve));
  const result = on
    .generate({ messages: user("Once upon a time"), options: { temperature: 0, num_predict: 100_000 }, signal, onText: () => started() })
    .catch((e: unknown) => e);
  return { generating, result };
}

describe("LlamaEngine", () => {
  it("loads a model with its load settings and says how long that took; its requests report no load time", async () => {
    expect(model.loadDurationNs).toBeGreaterThan(0);
    expect(model).toMatchObject({ name: stories.name, contextSize: 2048, slots: 2 }); // the trained context caps the default 4096
    expect(logs.find((l) => l.message === "model loaded" && l.fields?.model === stories.name)?.fields).toMatchObject({ contextSize: 2048, sequences: 2 });
    expect((await generate(model, user("Once upon a time"), greedy(4))).metrics.load_duration).toBe(0);
  });

  it("fails the load of a model file that cannot be loaded, and keeps serving others", async () => {
    const gone = { ...stories, name: "gone:latest", path: `${TEST_MODELS_DIR}/no-such-model.gguf` };
    await expect(load(gone)).rejects.toMatchObject({ name: "EngineError", code: "engine_error" });
    expect((await generate(model, user("Hi"), greedy(2))).metrics.eval_count).toBe(2);
  });

  it("repeats greedy output exactly, streams it, and measures it", async () => {
    const a = await generate(model, user("Once upon a time"), greedy(32));
    const b = await generate(model, user("Once upon a time"), greedy(32));
    expect(a.text.length).toBeGreaterThan(20);
    expect(b.text).toBe(a.text);
    expect(a.pieces.join("")).toBe(a.text);
    expect(a.pieces.length).toBeGreaterThan(10);
    for (const value of Object.values(a.metrics)) expect(Number.isInteger(value)).toBe(true);
    expect(a.metrics.prompt_eval_count).toBeGreaterThan(0);
    expect(a.metrics.prompt_eval_duration).toBeGreaterThan(0);
    expect(a.metrics.eval_duration).toBeGreaterThan(0);
  });

  it("does not evaluate a prompt prefix that its sequence already holds, and still counts every prompt token", async () => {
    const first = await generate(model, user("The little dog ran to the park"), greedy(8));
    const again = await generate(model, user("The little dog ran to the park"), greedy(8));
    expect(first.metrics.prompt_eval_count).toBeGreaterThan(5);
    // prompt_eval_count is the prompt's length, as Ollama reports it; the cached share is told apart
    expect(again.metrics.prompt_eval_count).toBe(first.metrics.prompt_eval_count);
    expect(again.metrics.prompt_cached_count).toBeGreaterThan(first.metrics.prompt_cached_count!);
    // all of it but the last token, whose logits the first sample needs
    expect(again.metrics.prompt_cached_count).toBe(again.metrics.prompt_eval_count - 1);
    expect(again.text).toBe(first.text);
  });

  it("repeats seeded output exactly; another seed differs", async () => {
    const options = { temperature: 0.8, num_predict: 32 };
    const a = await generate(model, user("Once upon a time"), { ...options, seed: 42 });
    const b = await generate(model, user("Once upon a time"), { ...options, seed: 42 });
    const c = await generate(model, user("Once upon a time"), { ...options, seed: 43 });
    expect(b.text).toBe(a.text);
    expect(c.text).not.toBe(a.text);
  });

  it("stops after num_predict tokens with done reason length", async () => {
    for (const n of [1, 10, 25]) {
      const run = await generate(model, user("Once upon a time"), greedy(n));
      expect(run.metrics.eval_count).toBe(n);
      expect(run.doneReason).toBe("length");
    }
  });

  it("cuts the output before a stop sequence, with done reason stop", async () => {
    const full = await generate(model, user("Once upon a time"), greedy(40));
    const words = full.text.split(/\s+/).filter((w) => /^[a-z]{4,}$/.test(w));
    const stopWord = words[2]!;
    const cut = await generate(model, user("Once upon a time"), { ...greedy(40), stop: [stopWord] });
    expect(cut.doneReason).toBe("stop");
    expect(cut.text).toBe(full.text.slice(0, full.text.indexOf(stopWord)));
    expect(cut.pieces.join("")).toBe(cut.text);
    expect(cut.metrics.eval_count).toBeLessThan(40);
  });

  it("runs concurrent requests on separate sequences, each as it would run alone", async () => {
    const prompts = ["Once upon a time", "The cat", "Tom had a ball", "In the big forest"];
    const solo: string[] = [];
    for (const prompt of prompts) solo.push((await generate(model, user(prompt), greedy(24))).text);

    // Events in the order they happened (a counter, not a clock): each run's first text and its end.
    let events = 0;
    const spans = prompts.map(() => ({ first: Infinity, end: 0 }));
    const runs = await Promise.all(
      prompts.map(async (prompt, i) => {
        const result = await model.generate({
          messages: user(prompt),
          options: greedy(24),
          signal: new AbortController().signal,
          onText: () => {
            if (spans[i]!.first === Infinity) spans[i]!.first = ++events;
          },
        });
        spans[i]!.end = ++events;
        return result;
      }),
    );
    expect(runs.map((r) => r.text)).toEqual(solo);
    // Two sequences: the first two overlap; the third starts only after one of them ended.
    expect(spans[1]!.first).toBeLessThan(spans[0]!.end);
    expect(spans[2]!.first).toBeGreaterThanOrEqual(Math.min(spans[0]!.end, spans[1]!.end));
  });

  it("stops generating within a token or two of an abort, and the model serves the next request", async () => {
    const controller = new AbortController();
    let piecesAtAbort = 0;
    const pieces: string[] = [];
    const running = model.generate({
      messages: user("Once upon a time"),
      options: { temperature: 0, num_predict: 100_000 },
      signal: controller.signal,
      onText: (text) => {
        pieces.push(text);
        if (pieces.length === 5) {
          piecesAtAbort = pieces.length;
          controller.abort();
        }
      },
    });
    const error = await running.then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(GenerationAbortedError);
    expect((error as GenerationAbortedError).name).toBe("AbortError");
    expect((error as GenerationAbortedError).code).toBe("cancelled");
    const partial = (error as GenerationAbortedError).partial!;
    expect(partial.metrics.eval_count).toBeLessThanOrEqual(piecesAtAbort + 2);
    expect(pieces.length).toBeLessThanOrEqual(piecesAtAbort + 2);
    expect(partial.text).toBe(pieces.join(""));

    const solo = await generate(model, user("The cat"), greedy(16));
    const after = await generate(model, user("The cat"), greedy(16));
    expect(after.text).toBe(solo.text);
  });

  it("takes an aborted request out of the queue for a sequence", async () => {
    const longRuns = new AbortController();
    const busy = [0, 1].map(() => endless(model, longRuns.signal));
    await Promise.all(busy.map((run) => run.generating)); // both sequences are taken
    const queued = new AbortController();
    const waiting = model.generate({ messages: user("Hi"), options: greedy(4), signal: queued.signal, onText: () => {} });
    queued.abort();
    // It rejects while both sequences are still busy: it left the queue, it did not wait for one.
    await expect(waiting).rejects.toMatchObject({ name: "AbortError", partial: undefined });
    longRuns.abort();
    for (const result of await Promise.all(busy.map((run) => run.result))) expect(result).toBeInstanceOf(GenerationAbortedError);
  });

  it("uses the GGUF's chat template when it has one", async () => {
    const plain = await generate(model, user("Once upon a time"), greedy(8));
    const chat = await load(chatml);
    const templated = await generate(chat, user("Once upon a time"), greedy(8));
    const loaded = logs.find((l) => l.message === "model loaded" && l.fields?.model === chatml.name);
    expect(loaded?.fields?.chatWrapper).toBe("ChatML");
    // ChatML's markup is spelled out byte by byte in this vocabulary: a much longer prompt.
    expect(templated.metrics.prompt_eval_count).toBeGreaterThan(plain.metrics.prompt_eval_count + 20);
    expect(templated.metrics.eval_count).toBe(8);
    await chat.dispose();
    expect(logs.filter((l) => l.message === "model unloaded" && l.fields?.model === chatml.name)).toHaveLength(1);
    await expect(generate(chat, user("Hi"), greedy(2))).rejects.toBeInstanceOf(EngineClosedError);
  });

  it("through residency: other load options wait for the running requests, then get a copy loaded with them (num_predict -2 fills it)", async () => {
    const residency = engineResidency(engine, [stories]);
    let ends = 0; // the order runs end in (a counter, not a clock)
    const run = async (options: ModelOptions, onLeased = () => {}) => {
      const lease = await residency.acquire(stories.name, { options });
      onLeased();
      try {
        const result = await generate(lease.handle, user("Once upon a time"), options);
        return { ...result, loadNs: lease.loadDurationNs, contextSize: lease.handle.contextSize, ended: ++ends };
      } finally {
        lease.release();
      }
    };
    let leased!: () => void;
    const firstLeased = new Promise<void>((resolve) => (leased = resolve));
    const first = run(greedy(64), leased);
    await firstLeased; // it holds the copy loaded with the default settings
    const second = await run({ ...greedy(8), num_ctx: 512 });
    expect((await first).metrics.eval_count).toBe(64);
    expect(second).toMatchObject({ contextSize: 512, metrics: { eval_count: 8 } });
    expect(second.loadNs).toBeGreaterThan(0);
    expect(second.ended).toBeGreaterThan((await first).ended);

    const full = await run({ temperature: 0, num_predict: -2, num_ctx: 256 });
    expect(full.doneReason).toBe("length");
    expect(full.loadNs).toBeGreaterThan(0);
    expect(full.metrics.prompt_eval_count + full.metrics.eval_count).toBe(256);
    await residency.unloadAll();
  });

  it("close stops running requests, is idempotent, and refuses later ones", async () => {
    const running = endless(model, new AbortController().signal);
    await running.generating;
    await Promise.all([engine.close(), engine.close()]);
    expect(await running.result).toBeInstanceOf(EngineClosedError);
    await expect(generate(model, user("Hi"), greedy(2))).rejects.toBeInstanceOf(EngineClosedError);
    await expect(load(stories)).rejects.toBeInstanceOf(EngineClosedError);
    await engine.close();
  });
});
