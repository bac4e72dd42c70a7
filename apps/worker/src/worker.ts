import { WIRE_VERSION, type WorkerState } from "@caravan/protocol";
import { closeAll, type WorkerTransport } from "@caravan/transport";
import type { Logger } from "pino";
import { scanModels, type CatalogEntry } from "./catalog/index.ts";
import type { WorkerConfig } from "./config.ts";
import { LlamaEngine } from "./engine/index.ts";
import { runJob } from "./job-runner.ts";

/** How often a worker rescans its models folder and re-advertises its state. */
export const HEARTBEAT_MS = 5000;

export interface RunningWorker {
  readonly workerId: string;
  readonly engine: LlamaEngine;
  /** jobs running now */
  busy(): number;
  /** stops taking jobs, lets running ones finish, then frees the engine; idempotent */
  close(): Promise<void>;
}

/**
 * A worker: the engine, the models folder, and a transport to take jobs from. It serves every
 * model in its folder, rescans the folder on each heartbeat so that new files are picked up,
 * and advertises its state so gateways can list what the cluster serves.
 */
export async function startWorker(config: WorkerConfig, transport: WorkerTransport, log: Logger): Promise<RunningWorker> {
  const engine = await LlamaEngine.create({
    threads: config.threads,
    numParallel: config.numParallel,
    gpu: config.gpu,
    defaultNumCtx: config.contextLength,
    log: (level, msg, fields) => log[level]({ ...fields }, msg),
  });
  const startedAt = Date.now();
  let entries: CatalogEntry[] = [];
  let busy = 0;

  const rescan = async (): Promise<CatalogEntry[]> => {
    entries = await scanModels(config.modelsDir, (msg) => log.warn(msg));
    return entries;
  };

  const handler = async (...[job, ctx]: Parameters<Parameters<WorkerTransport["serve"]>[1]>) => {
    busy++;
    try {
      await runJob(job, ctx, { engine, workerId: config.workerId, log, catalog: async () => entries });
    } finally {
      busy--;
    }
  };

  const heartbeat = async () => {
    await rescan();
    await transport.serve(entries.map((entry) => entry.name), handler, config.numParallel);
    const state: WorkerState = {
      v: WIRE_VERSION,
      worker_id: config.workerId,
      models: entries.map((entry) => entry.listed),
      num_parallel: config.numParallel,
      busy,
      started_at: startedAt,
    };
    await transport.advertise(state);
  };

  await heartbeat();
  if (entries.length === 0) log.warn({ modelsDir: config.modelsDir }, "no *.gguf models found; put GGUF files there or set CARAVAN_MODELS");
  log.info({ workerId: config.workerId, models: entries.map((e) => e.name), threads: config.threads, numParallel: config.numParallel }, "worker ready");

  const timer = setInterval(() => {
    heartbeat().catch((error: unknown) => log.warn({ err: error }, "heartbeat failed"));
  }, HEARTBEAT_MS);
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    workerId: config.workerId,
    engine,
    busy: () => busy,
    close() {
      closing ??= closeAll([() => clearInterval(timer), () => transport.close(), () => engine.close()]);
      return closing;
    },
  };
}
