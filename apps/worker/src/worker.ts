import os from "node:os";
import { WIRE_VERSION, type WorkerCommand, type WorkerState } from "@caravan/protocol";
import type { Telemetry } from "@caravan/telemetry";
import { closeAll } from "@caravan/runtime";
import type { CommandHandler, JobHandler, WorkerTransport } from "@caravan/transport";
import type { Logger } from "pino";
import { describeModel, findModel, scanModels, type CatalogEntry } from "./catalog/index.ts";
import type { WorkerConfig } from "./config.ts";
import { IsolatedEngine, LlamaEngine, loadCopy, SimulatedEngine, simulatedCatalog, type Engine, type LoadedModel } from "./engine/index.ts";
import { wireError } from "./errors.ts";
import { runJob } from "./job-runner.ts";
import { modelCommands } from "./models/commands.ts";
import { modelsFolderId } from "./models/folder-id.ts";
import { defaultMemoryBudget, Residency, systemClock } from "./residency/index.ts";
import { WorkerTelemetry } from "./telemetry/worker-telemetry.ts";

/** How often a worker rescans its models folder and re-advertises its state (its heartbeat). */
export const HEARTBEAT_MS = 2000;

export interface RunningWorker {
  readonly workerId: string;
  readonly engine: Engine;
  readonly residency: Residency<LoadedModel>;
  /** jobs running now */
  busy(): number;
  /** stops taking jobs, lets running ones finish, unloads, then frees the engine; idempotent */
  close(): Promise<void>;
}

/**
 * A worker: the engine, its residency (what is loaded, keep_alive timers, eviction), the models
 * folder, and a transport. It takes jobs for a model only while that model is loaded here, so
 * requests wait in the shared queue for a warm copy; gateways tell it what to load. Its state
 * goes out on every change and on a heartbeat, which also picks up new files in the folder.
 * With `processTelemetry` (startTelemetry) its jobs are traced and its loads, tokens and
 * sequences measured.
 */
export async function startWorker(config: WorkerConfig, transport: WorkerTransport, log: Logger, processTelemetry?: Telemetry): Promise<RunningWorker> {
  const engineLog = (level: "debug" | "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => log[level]({ ...fields }, msg);
  const sim = config.engine === "simulated" ? config.sim : undefined;
  const llamaConfig = { threads: config.threads, numParallel: config.numParallel, gpu: config.gpu, defaultNumCtx: config.contextLength, log: engineLog };
  // A crashed runner's copy is gone: residency must forget it (set once residency exists below).
  let modelLost = (_model: string, _reason: string): void => {};
  const engine: Engine = sim
    ? new SimulatedEngine({ ...sim, numParallel: config.numParallel, defaultNumCtx: config.contextLength, log: engineLog })
    : config.isolation === "process"
      ? await IsolatedEngine.create({ ...llamaConfig, onModelLost: (model, reason) => modelLost(model, reason) })
      : await LlamaEngine.create(llamaConfig);
  const telemetry = processTelemetry ? new WorkerTelemetry(processTelemetry, config.workerId, engine.name) : WorkerTelemetry.disabled(config.workerId, engine.name);
  const device = await engine.device();
  const memoryBudgetBytes = config.memoryBudgetBytes ?? defaultMemoryBudget({ total: os.totalmem(), free: os.freemem() }, device.vram);
  const startedAt = Date.now();
  let entries: CatalogEntry[] = [];
  let busy = 0;
  let draining = false;

  const entryFor = (model: string): CatalogEntry => {
    const entry = findModel(entries, model);
    if (!entry) throw new Error(`model '${model}' not found`);
    return entry;
  };

  const residency = new Residency<LoadedModel>(
    { maxLoadedModels: config.maxLoadedModels, memoryBudgetBytes, defaultKeepAliveMs: config.keepAliveMs },
    {
      load: async (model, options) => {
        const facts = await loadCopy(engine, entryFor(model), options);
        if (facts.loadDurationNs > 0) telemetry.recordLoad(model, facts.loadDurationNs);
        return facts;
      },
      unload: (_model, loaded) => loaded.dispose(),
      estimate: (model, options) => {
        const { settings, key, bytes, adjustments } = engine.planLoad(entryFor(model), options);
        // As Ollama warns when it clamps num_ctx: the request asked for more than the model or this worker allows.
        for (const { option, asked, used, why } of adjustments) log.warn({ model, option, asked, used, why }, `${option} ${asked} is out of bounds: using ${used}`);
        const ctx = options.num_ctx !== undefined && options.num_ctx >= 1 ? `num_ctx ${settings.contextSize}` : `the default num_ctx ${settings.contextSize} (CARAVAN_CONTEXT_LENGTH)`;
        return { bytes, contextLength: settings.contextSize, settings: key, sizedBy: `${ctx} for ${config.numParallel} sequence(s) (CARAVAN_NUM_PARALLEL)` };
      },
      clock: systemClock,
      onChange: () => void sync(),
      log: (level, msg, fields) => log[level]({ ...fields }, msg),
    },
  );
  modelLost = (model, reason) => residency.lost(model, reason);

  const handler: JobHandler = async (job, ctx) => {
    busy++;
    try {
      await runJob(job, ctx, { residency, workerId: config.workerId, log, catalog: () => entries, telemetry, publishState: () => sync() });
    } finally {
      busy--;
    }
  };

  const manageModels = modelCommands({
    workerId: config.workerId,
    modelsDir: config.modelsDir,
    entries: () => entries,
    residency,
    refresh: () => heartbeat(),
    log,
  });

  const onCommand: CommandHandler = async (command: WorkerCommand, ctx) => {
    // Reads the file only, so a draining worker still answers it.
    if (command.type === "show") return show(command.model, command.verbose);
    if (sim && (command.type === "pull" || command.type === "delete" || command.type === "copy")) {
      return { ok: false, code: "bad_request", message: `a worker with the simulated engine serves CARAVAN_SIM_MODELS only: it cannot ${command.type} models` };
    }
    if (draining) return { ok: false, code: "draining", message: "worker is shutting down" };
    if (command.type === "pull" || command.type === "delete" || command.type === "copy") return manageModels(command, ctx);
    const entry = findModel(entries, command.model);
    if (!entry) return { ok: false, code: "model_not_found", message: `model '${command.model}' not found` };
    try {
      if (command.type === "unload") {
        await residency.unload(command.model);
        return { ok: true };
      }
      // the sidecar's load-time defaults too, or the first job would load the model a second time
      const options = { ...entry.sidecar?.parameters, ...command.options };
      const { loadDurationNs } = await residency.load(command.model, { keepAliveMs: command.keep_alive_ms, options });
      telemetry.loadSpan(command.model, command.trace, loadDurationNs);
      return { ok: true, load_duration: loadDurationNs };
    } catch (error) {
      return { ok: false, ...wireError(error, "command") };
    }
  };

  const show = async (model: string, verbose: boolean): ReturnType<CommandHandler> => {
    const entry = findModel(entries, model);
    if (!entry) return { ok: false, code: "model_not_found", message: `model '${model}' not found` };
    if (sim) return { ok: false, code: "engine_error", message: `${entry.name} is a simulated model (CARAVAN_ENGINE=simulated): it has no file to describe` };
    try {
      return { ok: true, show: await describeModel(entry, verbose) };
    } catch (error) {
      return { ok: false, code: "engine_error", message: `cannot read ${entry.path}: ${error instanceof Error ? error.message : String(error)}` };
    }
  };

  const state = (): WorkerState => ({
    v: WIRE_VERSION,
    worker_id: config.workerId,
    models: entries.map((entry) => ({ ...entry.listed, capabilities: entry.capabilities })),
    models_folder_id: folderId,
    num_parallel: config.numParallel,
    busy,
    started_at: startedAt,
    draining,
    loaded: residency.snapshot(),
    max_loaded_models: config.maxLoadedModels,
    memory_budget_bytes: memoryBudgetBytes,
    memory_used_bytes: residency.usedBytes(),
    engine: engine.name,
    gpu: device.gpu,
  });

  // Consume exactly the queues of the models loaded here, then tell the gateways. Syncs run one
  // after another, so a late one never undoes what a newer state asked for. A sync reads the
  // state when it starts, so one waiting behind the running sync covers every change made
  // meanwhile: under load (two changes per job) the worker advertises once per round trip, not
  // twice per job.
  let syncing: Promise<void> = Promise.resolve();
  let waiting: Promise<void> | undefined;
  const syncOnce = async () => {
    if (!draining) {
      for (const entry of entries) {
        if (residency.isLoaded(entry.name)) await transport.serve(entry.name, handler, config.numParallel);
        else await transport.stopServing(entry.name);
      }
    }
    await transport.advertise(state());
  };
  const sync = (): Promise<void> => {
    waiting ??= syncing = syncing
      .then(() => {
        waiting = undefined;
        return syncOnce();
      })
      .catch((error: unknown) => log.warn({ err: error }, "state sync failed"));
    return waiting;
  };

  const heartbeat = async () => {
    entries = sim ? simulatedCatalog(sim.models, sim.modelBytes, config.contextLength) : await scanModels(config.modelsDir, (msg) => log.warn(msg));
    await sync();
  };

  // Without an id (a read-only folder) the worker still serves; gateways then treat its folder as its own.
  const folderId = sim ? undefined : await modelsFolderId(config.modelsDir).catch((error: unknown) => {
    log.info({ reason: (error as Error).message, modelsDir: config.modelsDir }, "no models folder id: pulls, copies and deletes treat this folder as unshared");
    return undefined;
  });

  telemetry.observe(() => residency.snapshot());
  await transport.onCommand(onCommand);
  await heartbeat();
  if (entries.length === 0) log.warn({ modelsDir: config.modelsDir }, "no *.gguf models found; put GGUF files there or set CARAVAN_MODELS");
  log.info(
    { workerId: config.workerId, models: entries.map((e) => e.name), threads: config.threads, numParallel: config.numParallel, maxLoadedModels: config.maxLoadedModels, memoryBudgetBytes, gpu: device.gpu, engine: engine.name },
    "worker ready",
  );

  const timer = setInterval(() => {
    heartbeat().catch((error: unknown) => log.warn({ err: error }, "heartbeat failed"));
  }, HEARTBEAT_MS);
  timer.unref();

  const untilIdle = async () => {
    while (busy > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  };

  let closing: Promise<void> | undefined;
  return {
    workerId: config.workerId,
    engine,
    residency,
    busy: () => busy,
    close() {
      closing ??= (async () => {
        draining = true;
        await closeAll([
          // Gateways stop placing work here; no new jobs are taken; the running ones finish.
          () => transport.advertise(state()),
          ...entries.map((entry) => () => transport.stopServing(entry.name)),
          // The heartbeat goes on while jobs drain: a draining worker is not a lost one.
          () => untilIdle(),
          () => clearInterval(timer),
          () => residency.unloadAll(),
          () => telemetry.close(),
          () => transport.close(),
          () => engine.close(),
        ]);
        log.info({ workerId: config.workerId }, "worker stopped");
      })();
      return closing;
    },
  };
}
