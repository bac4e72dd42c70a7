import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "@caravan/protocol";
import { defaultThreads, loadWorkerConfig } from "./config.ts";

describe("loadWorkerConfig", () => {
  it("reads the defaults", () => {
    const config = loadWorkerConfig({});
    expect(config).toMatchObject({
      modelsDir: path.resolve("./models"),
      numParallel: 4,
      contextLength: 4096,
      keepAliveMs: 300_000,
      gpu: "auto",
      maxLoadedModels: 3,
      memoryBudgetBytes: undefined,
      redisUrl: undefined,
      redisPrefix: "caravan",
      metricsPort: 9464,
    });
    expect(config.threads).toBe(defaultThreads());
  });

  it("parses every variable", () => {
    expect(
      loadWorkerConfig({
        CARAVAN_MODELS: "/srv/models",
        CARAVAN_NUM_PARALLEL: "8",
        CARAVAN_THREADS: "2",
        CARAVAN_KEEP_ALIVE: "-1",
        CARAVAN_GPU: "false",
        CARAVAN_MAX_LOADED_MODELS: "1",
        CARAVAN_MEMORY_BUDGET: "2GiB",
        CARAVAN_WORKER_ID: "gpu-7",
        CARAVAN_METRICS_PORT: "0",
      }),
    ).toMatchObject({ modelsDir: "/srv/models", numParallel: 8, threads: 2, keepAliveMs: -1, gpu: false, maxLoadedModels: 1, memoryBudgetBytes: 2 * 1024 ** 3, workerId: "gpu-7", metricsPort: 0 });
  });

  it.each([
    ["CARAVAN_NUM_PARALLEL", "0"],
    ["CARAVAN_THREADS", "many"],
    ["CARAVAN_KEEP_ALIVE", "soon"],
    ["CARAVAN_GPU", "tpu"],
    ["CARAVAN_MAX_LOADED_MODELS", "1.5"],
    ["CARAVAN_MEMORY_BUDGET", "lots"],
    ["CARAVAN_METRICS_PORT", "70000"],
    ["CARAVAN_METRICS_PORT", "-1"],
    ["CARAVAN_ISOLATION", "thread"],
  ])("stops on a bad %s, naming it", (name, value) => {
    expect(() => loadWorkerConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadWorkerConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it("isolates models in runner processes unless CARAVAN_ISOLATION=none", () => {
    expect(loadWorkerConfig({}).isolation).toBe("process");
    expect(loadWorkerConfig({ CARAVAN_ISOLATION: "none" }).isolation).toBe("none");
  });

  it("uses one thread on two cores, half the cores beyond", () => {
    expect([1, 2, 4, 16].map((cores) => defaultThreads(cores))).toEqual([1, 1, 2, 8]);
  });
});

describe("simulated engine configuration", () => {
  it("is off by default and needs model names when on", () => {
    expect(loadWorkerConfig({}).engine).toBe("llama");
    expect(loadWorkerConfig({}).sim).toBeUndefined();
    expect(() => loadWorkerConfig({ CARAVAN_ENGINE: "simulated" })).toThrow(/CARAVAN_SIM_MODELS/);
    const config = loadWorkerConfig({ CARAVAN_ENGINE: "simulated", CARAVAN_SIM_MODELS: "a, b", CARAVAN_SIM_MODEL_BYTES: "2GiB", CARAVAN_SIM_STAMP: "1" });
    expect(config.sim).toEqual({ models: ["a", "b"], tokensPerSecond: 50, promptTokensPerSecond: 2000, loadMs: 1000, modelBytes: 2 * 1024 ** 3, batchSize: 16, stampTokens: true });
  });
});
