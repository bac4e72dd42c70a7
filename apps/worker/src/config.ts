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
  };
}

function parseBudget(raw: string): number {
  try {
    return parseByteSize(raw);
  } catch (error) {
    throw new ConfigError(`invalid configuration: CARAVAN_MEMORY_BUDGET: ${error instanceof Error ? error.message : String(error)}`);
  }
}
