import { describe, expect, it } from "vitest";
import { engineResidency, loadModel } from "../../testing/engines.ts";
import type { LoadedModel } from "../engine-api.ts";
import { EngineClosedError, GenerationAbortedError } from "../errors.ts";
import { simulatedCatalog } from "./simulated-catalog.ts";
import { SimulatedEngine, type SimulatedEngineConfig } from "./simulated-engine.ts";

const [entry, other] = simulatedCatalog(["sim-a", "sim-b"], 2 * 1024 ** 3);
const engine = (config: Partial<SimulatedEngineConfig> = {}) =>
  new SimulatedEngine({ tokensPerSecond: 200, promptTokensPerSecond: 100_000, loadMs: 0, modelBytes: 2 * 1024 ** 3, numParallel: 2, batchSize: 16, defaultNumCtx: 2048, ...config });
/** An engine with sim-a loaded. */
const loaded = async (config: Partial<SimulatedEngineConfig> = {}) => {
  const e = engine(config);
  return { e, model: await loadModel(e, entry!) };
};
const chat = (model: LoadedModel, numPredict: number, signal: AbortSignal = new AbortController().signal, onText: (t: string) => void = () => {}) =>
  model.generate({ messages: [{ role: "user", content: "hello there" }], options: { num_predict: numPredict }, signal, onText });

describe("SimulatedEngine", () => {
  it("lists its models as simulated", () => {
    expect(entry!.name).toBe("sim-a:latest");
    expect(entry!.listed.details.family).toBe("simulated");
    expect(engine().name).toBe("simulated");
  });

  it("streams at the configured rate per stream, also with two streams at once", async () => {
    const { e, model } = await loaded({ tokensPerSecond: 200 });
    const started = performance.now();
    const [a, b] = await Promise.all([chat(model, 20, new AbortController().signal), chat(model, 20, new AbortController().signal)]);
    const ms = performance.now() - started;
    expect(a.metrics.eval_count).toBe(20);
    expect(b.metrics.eval_count).toBe(20);
    expect(a.doneReason).toBe("length");
    // 20 tokens at 200/s = 100 ms, in parallel
    expect(ms).toBeGreaterThanOrEqual(95);
    expect(ms).toBeLessThan(400);
    await e.close();
  });

  it("produces the same text for the same prompt", async () => {
    const { e, model } = await loaded({ tokensPerSecond: 5000 });
    const pieces: string[] = [];
    const one = await chat(model, 8, new AbortController().signal, (t) => pieces.push(t));
    const two = await chat(model, 8, new AbortController().signal);
    expect(one.text).toBe(two.text);
    expect(pieces.join("")).toBe(one.text);
    expect(one.text.split(" ")).toHaveLength(8);
    await e.close();
  });

  it("stamps each token with its generation time when asked", async () => {
    const { e, model } = await loaded({ tokensPerSecond: 1000, stampTokens: true });
    const before = performance.timeOrigin + performance.now();
    const result = await chat(model, 5, new AbortController().signal);
    const stamps = result.text.trim().split(" ").map(Number);
    expect(stamps).toHaveLength(5);
    for (const stamp of stamps) expect(stamp).toBeGreaterThanOrEqual(before);
    expect([...stamps].sort((x, y) => x - y)).toEqual(stamps);
    await e.close();
  });

  it("takes loadMs to load and reports it; a disposed model takes no requests", async () => {
    const e = engine({ loadMs: 80 });
    const started = performance.now();
    const model = await loadModel(e, entry!);
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    expect(model.loadDurationNs).toBeGreaterThanOrEqual(75e6);
    expect(model).toMatchObject({ name: "sim-a:latest", contextSize: 2048, slots: 2 });
    expect((await chat(model, 2)).metrics.load_duration).toBe(0);
    await model.dispose();
    await expect(chat(model, 2)).rejects.toBeInstanceOf(EngineClosedError);
    await e.close();
  });

  it("gives residency its model size, so the budget evicts as with real models", async () => {
    const unloaded: unknown[] = [];
    const e = engine({ log: (_level, message, fields) => message === "model unloaded" && unloaded.push(fields?.model) });
    const residency = engineResidency(e, [entry!, other!], { config: { memoryBudgetBytes: 3 * 1024 ** 3, defaultKeepAliveMs: 60_000 } });
    await residency.load("sim-a:latest", { options: {} });
    expect(residency.usedBytes()).toBe(2 * 1024 ** 3);
    // two 2 GiB models do not fit in 3 GiB: loading the second evicts the first
    await residency.load("sim-b:latest", { options: {} });
    expect(residency.usedBytes()).toBe(2 * 1024 ** 3);
    expect(residency.snapshot().map((copy) => copy.model)).toEqual(["sim-b:latest"]);
    expect(unloaded).toEqual(["sim-a:latest"]);
    await residency.unloadAll();
    await e.close();
  });

  it("stops within a token on abort, with the partial text", async () => {
    const { e, model } = await loaded({ tokensPerSecond: 100 });
    const controller = new AbortController();
    let pieces = 0;
    const running = chat(model, 1000, controller.signal, () => {
      if (++pieces === 3) controller.abort();
    });
    const error = await running.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(GenerationAbortedError);
    expect((error as GenerationAbortedError).partial?.metrics.eval_count).toBe(3);
    await e.close();
  });

  it("makes requests past numParallel wait for a sequence", async () => {
    const { e, model } = await loaded({ tokensPerSecond: 200, numParallel: 1 });
    const started = performance.now();
    await Promise.all([chat(model, 10, new AbortController().signal), chat(model, 10, new AbortController().signal)]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(95); // 2 × 50 ms, one after the other
    await e.close();
  });

  it("embeds deterministically into unit vectors", async () => {
    const { e, model } = await loaded();
    const { vectors } = await model.embed({ inputs: ["a", "a", "b"], truncate: true, normalize: true, signal: new AbortController().signal });
    expect(vectors[0]).toEqual(vectors[1]);
    expect(vectors[0]).not.toEqual(vectors[2]);
    expect(Math.hypot(...vectors[0]!)).toBeCloseTo(1, 6);
    await e.close();
  });
});
