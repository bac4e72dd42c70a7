import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { ConfigError, envInt, envKeepAlive, envString, parseEnv } from "@caravan/protocol";
import { parseByteSize } from "./residency/memory.ts";

/**
 * CPU threads per context. On CPU, node-llama-cpp's default (4 on a 2-core machine) makes
 * decoding collapse to a few tokens/s; one thread per two cores was measured fastest here.
 */
export function defaultThreads(cores: number = os.availableParallelism()): number {
  return cores <= 2 ? 1 : Math.floor(cores / 2);
}

const WorkerEnv = z.object({
  CARAVAN_MODELS: envString(),
  CARAVAN_NUM_PARALLEL: envInt(1, 4),
  CARAVAN_THREADS: envInt(1, defaultThreads()),
  CARAVAN_CONTEXT_LENGTH: envInt(256, 4096),
  CARAVAN_KEEP_ALIVE: envKeepAlive("5m"),
  CARAVAN_GPU: z.enum(["auto", "cuda", "vulkan", "metal", "false"], { error: "must be auto, cuda, vulkan, metal or false" }).default("auto"),
  CARAVAN_WORKER_ID: envString(),
  REDIS_URL: envString(),
  CARAVAN_REDIS_PREFIX: envString(),
  CARAVAN_MAX_LOADED_MODELS: envInt(1, 3),
  CARAVAN_MEMORY_BUDGET: envString(),
  CARAVAN_ENGINE: z.enum(["llama", "simulated"], { error: "must be llama or simulated" }).default("llama"),
  CARAVAN_ISOLATION: z.enum(["process", "none"], { error: "must be process or none" }).default("process"),
  CARAVAN_SIM_MODELS: envString(),
  CARAVAN_SIM_TOKENS_PER_SECOND: envInt(1, 50),
  CARAVAN_SIM_PROMPT_TOKENS_PER_SECOND: envInt(1, 2000),
  CARAVAN_SIM_LOAD_MS: envInt(0, 1000),
  CARAVAN_SIM_MODEL_BYTES: envString(),
  CARAVAN_SIM_BATCH: envInt(1, 16),
  CARAVAN_SIM_STAMP: z.enum(["0", "1", "true", "false"], { error: "must be 1 or 0" }).default("0"),
  CARAVAN_METRICS_PORT: envInt(0, 9464).refine((port) => port <= 65535, { error: "must be a port number from 0 (off) to 65535" }),
});

export interface WorkerConfig {
  /** absolute path of the folder whose *.gguf files are served */
  modelsDir: string;
  numParallel: number;
  threads: number;
  /** num_ctx when a request does not set it (capped by the model's trained context) */
  contextLength: number;
  keepAliveMs: number;
  gpu: false | "auto" | "cuda" | "vulkan" | "metal";
  workerId: string;
  redisUrl: string | undefined;
  redisPrefix: string;
  /** most models loaded at once */
  maxLoadedModels: number;
  /** bytes models may use; undefined = derived from the machine at start */
  memoryBudgetBytes: number | undefined;
  /** "llama" (node-llama-cpp, the default) or "simulated" (timers, for load tests: see engine/simulated) */
  engine: "llama" | "simulated";
  /**
   * with the llama engine: "process" runs each loaded model in its own runner process, so a native
   * crash ends that model's runner only (see engine/isolated); "none" runs models in this process
   */
  isolation: "process" | "none";
  /** the simulated engine's parameters; set when engine is "simulated" */
  sim: SimulationConfig | undefined;
  /** port of the worker's Prometheus /metrics server; 0 = none (`pnpm start` serves them at the gateway's /metrics) */
  metricsPort: number;
}

export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  const parsed = parseEnv(WorkerEnv, env);
  return {
    modelsDir: path.resolve(parsed.CARAVAN_MODELS ?? "./models"),
    numParallel: parsed.CARAVAN_NUM_PARALLEL,
    threads: parsed.CARAVAN_THREADS,
    contextLength: parsed.CARAVAN_CONTEXT_LENGTH,
    keepAliveMs: parsed.CARAVAN_KEEP_ALIVE,
    gpu: parsed.CARAVAN_GPU === "false" ? false : parsed.CARAVAN_GPU,
    workerId: parsed.CARAVAN_WORKER_ID ?? `${os.hostname()}-${process.pid}`,
    redisUrl: parsed.REDIS_URL,
    redisPrefix: parsed.CARAVAN_REDIS_PREFIX ?? "caravan",
    maxLoadedModels: parsed.CARAVAN_MAX_LOADED_MODELS,
    memoryBudgetBytes: parsed.CARAVAN_MEMORY_BUDGET === undefined ? undefined : parseBudget(parsed.CARAVAN_MEMORY_BUDGET),
    metricsPort: parsed.CARAVAN_METRICS_PORT,
    engine: parsed.CARAVAN_ENGINE,
    isolation: parsed.CARAVAN_ISOLATION,
    sim: parsed.CARAVAN_ENGINE === "simulated" ? simulationConfig(parsed) : undefined,
  };
}

export interface SimulationConfig {
  /** model names served (CARAVAN_SIM_MODELS); no models folder is read */
  models: string[];
  tokensPerSecond: number;
  promptTokensPerSecond: number;
  loadMs: number;
  modelBytes: number;
  /** sequences that step together, like one GPU's batch (CARAVAN_SIM_BATCH) */
  batchSize: number;
  /** tokens carry their generation time (CARAVAN_SIM_STAMP=1), for latency benchmarks */
  stampTokens: boolean;
}

function simulationConfig(parsed: z.infer<typeof WorkerEnv>): SimulationConfig {
  const models = (parsed.CARAVAN_SIM_MODELS ?? "").split(",").map((m) => m.trim()).filter((m) => m !== "");
  if (models.length === 0) throw new ConfigError("invalid configuration: CARAVAN_SIM_MODELS: CARAVAN_ENGINE=simulated needs a comma-separated list of model names");
  let modelBytes = 1024 ** 3;
  if (parsed.CARAVAN_SIM_MODEL_BYTES !== undefined) {
    try {
      modelBytes = parseByteSize(parsed.CARAVAN_SIM_MODEL_BYTES);
    } catch (error) {
      throw new ConfigError(`invalid configuration: CARAVAN_SIM_MODEL_BYTES: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return {
    models,
    tokensPerSecond: parsed.CARAVAN_SIM_TOKENS_PER_SECOND,
    promptTokensPerSecond: parsed.CARAVAN_SIM_PROMPT_TOKENS_PER_SECOND,
    loadMs: parsed.CARAVAN_SIM_LOAD_MS,
    modelBytes,
    batchSize: parsed.CARAVAN_SIM_BATCH,
    stampTokens: parsed.CARAVAN_SIM_STAMP === "1" || parsed.CARAVAN_SIM_STAMP === "true",
  };
}

function parseBudget(raw: string): number {
  try {
    return parseByteSize(raw);
  } catch (error) {
    throw new ConfigError(`invalid configuration: CARAVAN_MEMORY_BUDGET: ${error instanceof Error ? error.message : String(error)}`);
  }
}
