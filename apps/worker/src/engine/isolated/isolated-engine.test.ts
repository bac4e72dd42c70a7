import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage, ModelOptions } from "@caravan/protocol";
import { findModel, scanModels, type CatalogEntry } from "../../catalog/catalog.ts";
import { TEST_MODELS_DIR } from "../../catalog/test-models.ts";
import type { LoadedModel } from "../engine-api.ts";
import { LlamaEngine } from "../engine.ts";
import { EngineClosedError, EngineError, GenerationAbortedError } from "../errors.ts";
import { alive } from "../../testing/alive.ts";
import { loadModel } from "../../testing/engines.ts";
import { IsolatedEngine } from "./isolated-engine.ts";
import { ChunkBatcher, type ChatChunk } from "../../chunk-batcher.ts";

// Real runner processes on the tiny models; TinyStories-656K aborts its process on `#` (see ../shared/models/README.md).
let engine: IsolatedEngine;
let stories: CatalogEntry;
let tiny: CatalogEntry;
/** stories260K in a runner of `engine` */
let model: LoadedModel;
const lost: string[] = [];

const config = { threads: 1, numParallel: 1, gpu: false as const, defaultNumCtx: 2048 };
const user = (content: string): ChatMessage[] => [{ role: "user", content }];
const greedy = (n: number): ModelOptions => ({ temperature: 0, num_predict: n });
const never = () => new AbortController().signal;

beforeAll(async () => {
  const entries = await scanModels(TEST_MODELS_DIR);
  stories = findModel(entries, "stories260K")!;
  tiny = findModel(entries, "TinyStories-656K-Q8_0")!;
  engine = await IsolatedEngine.create({ ...config, onModelLost: (name) => lost.push(name) });
  model = await loadModel(engine, stories);
});

afterAll(async () => {
  await engine?.close();
});

describe("IsolatedEngine", () => {
  it("streams the same text as the in-process LlamaEngine for a greedy request", async () => {
    const direct = await LlamaEngine.create(config);
    try {
      const run = async (on: LoadedModel) => {
        const pieces: string[] = [];
        const result = await on.generate({ messages: user("Once upon a time"), options: greedy(64), signal: never(), onText: (t) => pieces.push(t) });
        return { text: result.text, streamed: pieces.join(""), evalCount: result.metrics.eval_count, doneReason: result.doneReason };
      };
      const [isolated, inProcess] = [await run(model), await run(await loadModel(direct, stories))];
      expect(isolated).toEqual(inProcess);
      expect(isolated.streamed).toBe(isolated.text);
      expect(isolated.evalCount).toBe(64);
      // the runner's start counts as part of the load
      expect(model).toMatchObject({ name: stories.name, contextSize: 2048, slots: 1 });
      expect(model.loadDurationNs).toBeGreaterThan(0);
    } finally {
      await direct.close();
    }
  });

  it("keeps the streams of requests generating at once on one runner apart (they share its messages)", async () => {
    const parallel = await IsolatedEngine.create({ ...config, numParallel: 2 });
    try {
      const two = await loadModel(parallel, stories);
      const run = async (prompt: string) => {
        const pieces: string[] = [];
        const result = await two.generate({ messages: user(prompt), options: greedy(96), signal: never(), onText: (t) => pieces.push(t) });
        return { text: result.text, streamed: pieces.join(""), pieces: pieces.length };
      };
      const alone = [await run("Once upon a time"), await run("The little dog")];
      const together = await Promise.all([run("Once upon a time"), run("The little dog")]);
      for (const [i, r] of together.entries()) {
        expect(r.streamed).toBe(r.text);
        expect(r.text).toBe(alone[i]!.text);
        expect(r.pieces).toBeGreaterThan(1);
      }
      expect(together[0]!.text).not.toBe(together[1]!.text);
    } finally {
      await parallel.close();
    }
  });

  it("completes raw text, with logprobs in order, and embeds", async () => {
    let streamed = "";
    const logprobs: unknown[] = [];
    const done = await model.complete({
      prompt: "Once upon a time",
      options: greedy(16),
      signal: never(),
      onText: (t) => (streamed += t),
      logprobs: true,
      onLogprob: (e) => logprobs.push(e),
    });
    expect(done.metrics.eval_count).toBe(16);
    expect(streamed).toBe(done.text);
    expect(logprobs).toHaveLength(16);
    const { vectors } = await model.embed({ inputs: ["a cat", "a dog"], truncate: true, normalize: true, signal: never() });
    expect(vectors).toHaveLength(2);
    expect(vectors[0]!.length).toBeGreaterThan(0);
  });

  it("holds a request's pieces while their consumer is not ready, and merges them: the first piece at once, the rest with the answer", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const pieces: string[] = [];
    const result = await model.generate({ messages: user("Once upon a time"), options: greedy(64), signal: never(), onText: (t) => pieces.push(t), ready: () => held });
    release();
    expect(pieces).toHaveLength(2);
    expect(pieces.join("")).toBe(result.text);
    expect(result.metrics.eval_count).toBe(64);
  });

  it("relays each logprob entry before the text it produced, so each chunk's entries join to its content", async () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const sent: ChatChunk[] = [];
      const batcher = new ChunkBatcher(async (chunk) => void sent.push(chunk));
      const result = await model.generate({
        messages: user("Once upon a time"),
        options: { temperature: 1, seed, num_predict: 64, stop: [["he"], ["a"], ["."]][seed % 3] },
        signal: never(),
        onText: (t) => batcher.push(t),
        logprobs: true,
        onLogprob: (e) => batcher.logprob(e),
        ready: () => batcher.ready(),
      });
      await batcher.drain();
      expect(sent.map((c) => c.content).join("")).toBe(result.text);
      for (const chunk of sent) expect((chunk.logprobs ?? []).map((e) => e.token).join(""), JSON.stringify(chunk)).toBe(chunk.content);
    }
  });

  it("an abort mid-generation rejects with GenerationAbortedError and its partial, and frees the runner's sequence", async () => {
    const controller = new AbortController();
    let streamed = "";
    const running = model.generate({
      messages: user("Once upon a time"),
      options: greedy(100_000),
      signal: controller.signal,
      onText: (t) => {
        streamed += t;
        if (streamed.length > 40) controller.abort();
      },
    });
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GenerationAbortedError);
    const partial = (error as GenerationAbortedError).partial!;
    expect(partial.metrics.eval_count).toBeGreaterThan(0);
    expect(partial.metrics.eval_count).toBeLessThan(2000);
    expect(streamed.startsWith(partial.text.slice(0, 40))).toBe(true);
    // numParallel 1: this runs only if the aborted request gave its sequence back
    const next = await model.generate({ messages: user("Once upon a time"), options: greedy(4), signal: never(), onText: () => {} });
    expect(next.metrics.eval_count).toBe(4);
  });

  it("a model that crashes its runner fails its request clearly; another model's request in flight completes; a new load gets a new runner", async () => {
    const crashing = await loadModel(engine, tiny);
    const before = engine.runnerPids();
    let storiesText = "";
    let otherSettled = false;
    let generating: () => void;
    const firstText = new Promise<void>((resolve) => (generating = resolve));
    // 1500 tokens: over a second here, so it is mid-generation when the other runner dies
    const other = model.generate({ messages: user("Once upon a time"), options: greedy(1500), signal: never(), onText: (t) => ((storiesText += t), generating()) });
    void other.finally(() => (otherSettled = true));
    await firstText;
    const started = Date.now();
    const crash = await crashing.generate({ messages: user("# a story"), options: greedy(16), signal: never(), onText: () => {} }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(otherSettled, "the stories260K request was still in flight at the crash").toBe(false);
    expect(crash).toBeInstanceOf(EngineError);
    expect((crash as Error).message).toBe(
      "the runner of model 'tinystories-656k-q8_0:latest' crashed (SIGABRT) while generating; it will be restarted for the next request",
    );
    expect(lost).toEqual([tiny.name]);
    expect(engine.runnerPids()).toHaveLength(before.length - 1);
    // the lost model takes no more requests; disposing it is harmless
    await expect(crashing.generate({ messages: user("Once"), options: greedy(4), signal: never(), onText: () => {} })).rejects.toThrow(/crashed \(SIGABRT\)/);
    await crashing.dispose();

    const done = await other;
    expect(done.metrics.eval_count).toBe(1500);
    expect(storiesText).toBe(done.text);

    const reloaded = await loadModel(engine, tiny);
    const again = await reloaded.generate({ messages: user("Once upon a time"), options: greedy(16), signal: never(), onText: () => {} });
    expect(again.metrics.eval_count).toBeGreaterThan(0);
    expect(reloaded.loadDurationNs).toBeGreaterThan(0);
    const newPids = engine.runnerPids().filter((pid) => !before.includes(pid));
    expect(newPids).toHaveLength(1);
    await reloaded.dispose();
  });

  it("dispose ends the model's runner", async () => {
    const loaded = await loadModel(engine, tiny);
    const pidsBefore = engine.runnerPids();
    await Promise.all([loaded.dispose(), loaded.dispose()]);
    const gone = pidsBefore.filter((pid) => !engine.runnerPids().includes(pid));
    expect(gone).toHaveLength(1);
    expect(alive(gone[0]!)).toBe(false);
    expect(lost).toEqual([tiny.name]); // an unload is no crash
    await expect(loaded.generate({ messages: user("hi"), options: greedy(4), signal: never(), onText: () => {} })).rejects.toBeInstanceOf(EngineClosedError);
  });

  it("close ends every runner and refuses later requests", async () => {
    const own = await IsolatedEngine.create(config);
    const loaded = await loadModel(own, stories);
    await loadModel(own, tiny);
    const pids = own.runnerPids();
    expect(pids).toHaveLength(2);
    await own.close();
    await own.close();
    expect(pids.filter(alive)).toEqual([]);
    await expect(loaded.generate({ messages: user("hi"), options: greedy(4), signal: never(), onText: () => {} })).rejects.toBeInstanceOf(EngineClosedError);
    await expect(loadModel(own, stories)).rejects.toBeInstanceOf(EngineClosedError);
  });
});
