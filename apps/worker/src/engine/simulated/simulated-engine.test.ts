import { describe, expect, it } from "vitest";
import { Residency, systemClock } from "../../residency/index.ts";
import { GenerationAbortedError } from "../errors.ts";
import { simulatedCatalog } from "./simulated-catalog.ts";
import { SimulatedEngine, type SimulatedEngineConfig } from "./simulated-engine.ts";

const [entry, other] = simulatedCatalog(["sim-a", "sim-b"], 2 * 1024 ** 3);
const engine = (config: Partial<SimulatedEngineConfig> = {}) =>
  new SimulatedEngine({ tokensPerSecond: 200, promptTokensPerSecond: 100_000, loadMs: 0, modelBytes: 2 * 1024 ** 3, numParallel: 2, batchSize: 16, defaultNumCtx: 2048, ...config });
const chat = (e: SimulatedEngine, numPredict: number, signal: AbortSignal = new AbortController().signal, onText: (t: string) => void = () => {}) =>
  e.generate({ entry: entry!, messages: [{ role: "user", content: "hello there" }], options: { num_predict: numPredict }, signal, onText });

describe("SimulatedEngine", () => {
  it("lists its models as simulated", () => {
    expect(entry!.name).toBe("sim-a:latest");
    expect(entry!.listed.details.family).toBe("simulated");
    expect(engine().name).toBe("simulated");
  });

  it("streams at the configured rate per stream, also with two streams at once", async () => {
    const e = engine({ tokensPerSecond: 200 });
    const started = performance.now();
    const [a, b] = await Promise.all([chat(e, 20, new AbortController().signal), chat(e, 20, new AbortController().signal)]);
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
    const e = engine({ tokensPerSecond: 5000 });
    const pieces: string[] = [];
    const one = await chat(e, 8, new AbortController().signal, (t) => pieces.push(t));
    const two = await chat(e, 8, new AbortController().signal);
    expect(one.text).toBe(two.text);
    expect(pieces.join("")).toBe(one.text);
    expect(one.text.split(" ")).toHaveLength(8);
    await e.close();
  });

  it("stamps each token with its generation time when asked", async () => {
    const e = engine({ tokensPerSecond: 1000, stampTokens: true });
    const before = performance.timeOrigin + performance.now();
    const result = await chat(e, 5, new AbortController().signal);
    const stamps = result.text.trim().split(" ").map(Number);
    expect(stamps).toHaveLength(5);
    for (const stamp of stamps) expect(stamp).toBeGreaterThanOrEqual(before);
    expect([...stamps].sort((x, y) => x - y)).toEqual(stamps);
    await e.close();
  });

  it("takes loadMs to load, once, and reports it", async () => {
    const e = engine({ loadMs: 80 });
    const started = performance.now();
    const first = await e.ensureLoaded(entry!, {});
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    expect(first.loadDurationNs).toBeGreaterThanOrEqual(75e6);
    expect(first.contextSize).toBe(2048);
    expect((await e.ensureLoaded(entry!, {})).loadDurationNs).toBe(0);
    expect(e.loaded()).toEqual(["sim-a:latest"]);
    await e.unload("sim-a");
    expect(e.loaded()).toEqual([]);
    await e.close();
  });

  it("gives residency its model size, so the budget evicts as with real models", async () => {
    const e = engine();
    const residency = new Residency(
      { maxLoadedModels: 3, memoryBudgetBytes: 3 * 1024 ** 3, defaultKeepAliveMs: 60_000 },
      {
        load: async (model, options) => {
          const found = [entry!, other!].find((x) => x.name === model)!;
          const { loadDurationNs, contextSize } = await e.ensureLoaded(found, options);
          return { loadDurationNs, contextLength: contextSize, slots: 2, sizeBytes: e.planLoad(found, options).bytes };
        },
        unload: (model) => e.unload(model),
        estimate: (model, options) => {
          const plan = e.planLoad([entry!, other!].find((x) => x.name === model)!, options);
          return { bytes: plan.bytes, contextLength: plan.settings.contextSize, settings: plan.key, sizedBy: "test" };
        },
        clock: systemClock,
      },
    );
    await residency.load("sim-a:latest", { options: {} });
    expect(residency.usedBytes()).toBe(2 * 1024 ** 3);
    // two 2 GiB models do not fit in 3 GiB: loading the second evicts the first
    await residency.load("sim-b:latest", { options: {} });
    expect(residency.usedBytes()).toBe(2 * 1024 ** 3);
    expect(e.loaded()).toEqual(["sim-b:latest"]);
    await residency.unloadAll();
    await e.close();
  });

  it("stops within a token on abort, with the partial text", async () => {
    const e = engine({ tokensPerSecond: 100 });
    const controller = new AbortController();
    let pieces = 0;
    const running = chat(e, 1000, controller.signal, () => {
      if (++pieces === 3) controller.abort();
    });
    const error = await running.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(GenerationAbortedError);
    expect((error as GenerationAbortedError).partial?.metrics.eval_count).toBe(3);
    await e.close();
  });

  it("makes requests past numParallel wait for a sequence", async () => {
    const e = engine({ tokensPerSecond: 200, numParallel: 1 });
    const started = performance.now();
    await Promise.all([chat(e, 10, new AbortController().signal), chat(e, 10, new AbortController().signal)]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(95); // 2 × 50 ms, one after the other
    await e.close();
  });

  it("embeds deterministically into unit vectors", async () => {
    const e = engine();
    const { vectors } = await e.embed({ entry: entry!, inputs: ["a", "a", "b"], options: {}, truncate: true, normalize: true, signal: new AbortController().signal });
    expect(vectors[0]).toEqual(vectors[1]);
    expect(vectors[0]).not.toEqual(vectors[2]);
    expect(Math.hypot(...vectors[0]!)).toBeCloseTo(1, 6);
    await e.close();
  });
});
