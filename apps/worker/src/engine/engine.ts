import { getLlama, LlamaCompletion, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { canonicalModelName, type ModelOptions, type ToolCall } from "@caravan/protocol";

import type { CatalogEntry } from "../catalog/catalog.ts";
import { runChatOnSlot } from "./chat-request.ts";
import { EngineClosedError, EngineError, EngineRequestError, GenerationAbortedError } from "./errors.ts";
import { completeOnSlot } from "./completion.ts";
import { fixJsonGrammars } from "./gbnf-fixes.ts";
import type { SlotGeneration } from "./generation.ts";
import { JsonGrammars } from "./json-grammar.ts";
import { LoadedModel, type Slot } from "./loaded-model.ts";
import { raceSignal } from "./race-signal.ts";
import { RequestSignals } from "./request-signals.ts";
import { sameLoadSettings, type LoadSettings } from "./load-options.ts";
import { planLlamaLoad, type LoadPlan } from "./load-plan.ts";
import { toSamplingSettings, type SamplingSettings } from "./sampling.ts";
import type { CompleteRequest, EmbedRequest, EmbedResult, EngineConfig, EngineLog, GenerateRequest, GenerateResult } from "./types.ts";
import type { Engine } from "./engine-api.ts";

/**
 * A model name's residency in this engine. `users` counts requests between acquiring the model
 * and finishing (waiting for a slot included); a handle is only disposed at users === 0.
 */
interface ModelHandle {
  readonly name: string;
  readonly settings: LoadSettings;
  readonly ready: Promise<LoadedModel>;
  loaded: LoadedModel | undefined;
  users: number;
  /** set once someone wants it gone (unload, other load settings, close): it takes no new users */
  retiring: Promise<void> | undefined;
  onIdle: (() => void) | undefined;
}

/** One generation on a slot, with its sampling settings and its request's signal. */
type SlotRun = (slot: Slot, sampling: SamplingSettings, signal: AbortSignal) => Promise<SlotGeneration & { thinking?: string; toolCalls?: ToolCall[] }>;

/**
 * Runs chat generations on GGUF models with node-llama-cpp.
 *
 * Load-time options (num_ctx, num_batch, num_thread, use_mmap, num_gpu) are fixed per loaded
 * model. A request whose load settings differ from the loaded copy's waits until that copy has
 * no requests (running or queued), which then is disposed and loaded again with the new settings
 * — what Ollama does too. While a copy is being retired it takes no new requests, so a stream of
 * requests with the old settings cannot starve the one that asked for the change.
 *
 * Aborts: an aborted request rejects with GenerationAbortedError (name "AbortError", code
 * "cancelled") whether it was waiting or generating; the text it produced so far has already
 * gone out through onText, and the error's `partial` holds it with its metrics. Its sequence is
 * free again at once.
 */
export class LlamaEngine implements Engine {
  readonly name = "llama";
  private readonly handles = new Map<string, ModelHandle>();
  private readonly grammars: JsonGrammars;
  private readonly requests = new RequestSignals();
  private readonly inflight = new Set<Promise<unknown>>();
  private closed: Promise<void> | undefined;
  private readonly log: EngineLog;

  private constructor(
    private readonly llama: Llama,
    private readonly config: EngineConfig,
  ) {
    this.log = config.log ?? (() => {});
    this.grammars = new JsonGrammars(llama);
  }

  static async create(config: EngineConfig): Promise<LlamaEngine> {
    if (!Number.isInteger(config.threads) || config.threads < 1) throw new EngineError(`threads must be a positive integer, got ${config.threads}`);
    if (!Number.isInteger(config.numParallel) || config.numParallel < 1)
      throw new EngineError(`numParallel must be a positive integer, got ${config.numParallel}`);
    const log = config.log ?? (() => {});
    await fixJsonGrammars();
    const llama = await getLlama({
      gpu: config.gpu,
      // Caps every context's threads: the library's default of 4 collapses to 1–3 tok/s on 2 cores.
      maxThreads: config.threads,
      // A server never compiles llama.cpp at run time: without a prebuilt binary for the GPU it falls back.
      build: "never",
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => log(toEngineLevel(level), message.trim(), { source: "llama.cpp" }),
    });
    log("info", "engine ready", { gpu: llama.gpu, threads: config.threads, numParallel: config.numParallel });
    return new LlamaEngine(llama, config);
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    return this.track(() =>
      this.onSlot(req, async (slot, sampling, signal) => {
        const grammar = await this.grammars.forFormat(req.format);
        await this.grammars.checkTools(req.tools, req.toolChoice);
        return runChatOnSlot(slot, req, sampling, signal, grammar);
      }),
    );
  }

  /** Continues raw text (no chat template); with `suffix`, fills in the middle. Same errors as generate(). */
  async complete(req: CompleteRequest): Promise<GenerateResult> {
    return this.track(() =>
      this.onSlot(req, async (slot, sampling, signal) => {
        if (req.suffix !== undefined && !new LlamaCompletion({ contextSequence: slot.sequence }).infillSupported) {
          throw new EngineRequestError(`${req.entry.name} does not support insert: it has no fill-in-the-middle tokens`);
        }
        const grammar = await this.grammars.forFormat(req.format);
        return completeOnSlot(slot, req, sampling, signal, grammar);
      }),
    );
  }

  /** Embeds each input with the model (loading it as generate() would). */
  async embed(req: EmbedRequest): Promise<EmbedResult> {
    return this.track(() =>
      this.requests.run(req.signal, async (signal) => {
        const { handle, loadNs } = await this.acquireModel(req.entry, this.loadSettingsFor(req.entry, req.options), signal, req.signal);
        try {
          const { vectors, promptEvalCount, promptEvalNs } = await this.guard(handle.loaded!.embedder.embed(req.inputs, req, signal), req.signal);
          return {
            vectors,
            metrics: { load_duration: loadNs, prompt_eval_count: promptEvalCount, prompt_cached_count: 0, prompt_eval_duration: promptEvalNs, eval_count: 0, eval_duration: 0 },
          };
        } finally {
          this.releaseModel(handle);
        }
      }),
    );
  }

  /**
   * The frame every text generation runs in: the model acquired with the request's load settings,
   * a free slot, the sampling settings, and the result turned into metrics or the documented errors.
   */
  private onSlot(req: { entry: CatalogEntry; options: ModelOptions; signal: AbortSignal }, run: SlotRun): Promise<GenerateResult> {
    return this.requests.run(req.signal, (signal) => this.onSlotUnder(req, signal, run));
  }

  /** onSlot() with the request's signal (the caller's, or the engine closing). */
  private async onSlotUnder(req: { entry: CatalogEntry; options: ModelOptions; signal: AbortSignal }, signal: AbortSignal, run: SlotRun): Promise<GenerateResult> {
    const { handle, loadNs } = await this.acquireModel(req.entry, this.loadSettingsFor(req.entry, req.options), signal, req.signal);
    try {
      const loaded = handle.loaded!;
      const slot = await this.guard(loaded.pool.acquire(signal), req.signal);
      try {
        const { settings: sampling, ignored } = toSamplingSettings(req.options, slot.sequence.contextSize);
        if (ignored.length > 0) this.log("warn", "options not supported by the engine, ignored", { model: handle.name, options: ignored });
        const result = await this.guard(run(slot, sampling, signal), req.signal);
        const metrics = {
          load_duration: loadNs,
          prompt_eval_count: result.promptEvalCount,
          prompt_cached_count: result.promptCachedCount,
          prompt_eval_duration: result.promptEvalNs,
          eval_count: result.evalCount,
          eval_duration: result.evalNs,
        };
        if (result.aborted) {
          if (!req.signal.aborted) throw new EngineClosedError();
          throw new GenerationAbortedError(req.signal.reason, { text: result.text, metrics });
        }
        return { doneReason: result.doneReason, text: result.text, thinking: result.thinking, toolCalls: result.toolCalls, metrics };
      } finally {
        loaded.steps.leave(slot.sequence);
        loaded.pool.release(slot);
      }
    } finally {
      this.releaseModel(handle);
    }
  }

  /** Loads the model with the load options of `options` if it is not loaded so (chat with `messages: []`). */
  async ensureLoaded(entry: CatalogEntry, options: ModelOptions): Promise<{ loadDurationNs: number; contextSize: number }> {
    return this.track(async () => {
      const { handle, loadNs } = await this.acquireModel(entry, this.loadSettingsFor(entry, options), this.requests.closed, undefined);
      this.releaseModel(handle);
      return { loadDurationNs: loadNs, contextSize: handle.loaded!.contextSize };
    });
  }

  /** Unloads a model once its running and queued requests are done. Unknown names are a no-op. */
  async unload(name: string): Promise<void> {
    const handle = this.handles.get(canonicalModelName(name));
    if (handle) await this.retire(handle);
  }

  /** Whether models run on a GPU, and its memory (for the worker's memory budget). */
  async device(): Promise<{ gpu: boolean; vram?: { total: number; used: number } }> {
    if (this.llama.gpu === false) return { gpu: false };
    const vram = await this.llama.getVramState();
    return { gpu: true, vram: { total: vram.total, used: vram.used } };
  }

  /** Bounded load settings; memory: weights, KV cache of every sequence and a fixed overhead (see residency/memory.ts). */
  planLoad(entry: CatalogEntry, options: ModelOptions): LoadPlan {
    return planLlamaLoad(entry, options, this.config);
  }

  /** Names of the models in memory now, sorted. */
  loaded(): string[] {
    return [...this.handles.values()].filter((h) => h.loaded !== undefined).map((h) => h.name).sort();
  }

  /** How many decode rounds a loaded model's sequences took, and how many sequences stepped in them (see StepBarrier). */
  stepCounts(name: string): { rounds: number; stepped: number } | undefined {
    const steps = this.handles.get(canonicalModelName(name))?.loaded?.steps;
    return steps && { rounds: steps.rounds, stepped: steps.stepped };
  }

  /**
   * Aborts running requests (they reject with EngineClosedError), disposes every model and the
   * llama.cpp binding. Safe to call twice; every step runs even if one fails.
   */
  close(): Promise<void> {
    this.closed ??= this.closeOnce();
    return this.closed;
  }

  private async closeOnce(): Promise<void> {
    this.requests.close(new EngineClosedError());
    const errors: unknown[] = [];
    for (const handle of this.handles.values()) handle.loaded?.pool.close(new EngineClosedError());
    await Promise.allSettled([...this.inflight]);
    for (const handle of [...this.handles.values()]) {
      try {
        await this.retire(handle);
      } catch (error) {
        errors.push(error);
      }
    }
    await this.llama.dispose().catch((error: unknown) => errors.push(error));
    for (const error of errors) this.log("error", "engine close step failed", { error: String(error) });
    this.log("info", "engine closed");
  }

  private loadSettingsFor(entry: CatalogEntry, options: ModelOptions): { settings: LoadSettings } {
    return this.planLoad(entry, options);
  }

  /**
   * The loaded copy of `entry` with `settings`, loading it (or replacing a copy with other
   * settings) when needed. The caller must releaseModel() the handle.
   */
  private async acquireModel(
    entry: CatalogEntry,
    { settings }: { settings: LoadSettings },
    signal: AbortSignal,
    callerSignal: AbortSignal | undefined,
  ): Promise<{ handle: ModelHandle; loadNs: number }> {
    while (true) {
      if (this.requests.closed.aborted) throw new EngineClosedError();
      const handle = this.handles.get(entry.name) ?? this.startLoad(entry, settings);
      if (handle.retiring || !sameLoadSettings(handle.settings, settings)) {
        await this.guard(raceSignal(this.retire(handle), signal), callerSignal);
        continue;
      }
      handle.users++;
      if (handle.loaded) return { handle, loadNs: 0 };
      const started = process.hrtime.bigint();
      try {
        await this.guard(raceSignal(handle.ready, signal), callerSignal);
      } catch (error) {
        this.releaseModel(handle);
        throw error;
      }
      return { handle, loadNs: Number(process.hrtime.bigint() - started) };
    }
  }

  private releaseModel(handle: ModelHandle): void {
    handle.users--;
    if (handle.users === 0) handle.onIdle?.();
  }

  private startLoad(entry: CatalogEntry, settings: LoadSettings): ModelHandle {
    const started = performance.now();
    const handle: ModelHandle = {
      name: entry.name,
      settings,
      ready: LoadedModel.load(this.llama, entry, settings, this.config.numParallel).then(
        (loaded) => {
          handle.loaded = loaded;
          this.log("info", "model loaded", {
            model: entry.name,
            ms: Math.round(performance.now() - started),
            contextSize: loaded.contextSize,
            sequences: this.config.numParallel,
            batchSize: settings.batchSize,
            threads: settings.threads,
            chatWrapper: loaded.chatWrapperName,
          });
          return loaded;
        },
        (error: unknown) => {
          if (this.handles.get(entry.name) === handle) this.handles.delete(entry.name);
          this.log("error", "model load failed", { model: entry.name, error: String(error) });
          throw new EngineError(`failed to load model ${entry.name}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
        },
      ),
      loaded: undefined,
      users: 0,
      retiring: undefined,
      onIdle: undefined,
    };
    handle.ready.catch(() => {}); // failures reach the requests that wait; none may be waiting
    this.handles.set(entry.name, handle);
    return handle;
  }

  /** Takes no new requests, waits for the current ones, then disposes. Shared by all callers. */
  private retire(handle: ModelHandle): Promise<void> {
    handle.retiring ??= (async () => {
      if (handle.users > 0) await new Promise<void>((resolve) => (handle.onIdle = resolve));
      try {
        const loaded = await handle.ready.catch(() => undefined);
        await loaded?.dispose();
        if (loaded) this.log("info", "model unloaded", { model: handle.name });
      } finally {
        handle.loaded = undefined;
        if (this.handles.get(handle.name) === handle) this.handles.delete(handle.name);
      }
    })();
    return handle.retiring;
  }

  /** Rewrites a failure while the caller's signal or close() aborted into the documented errors. */
  private async guard<T>(promise: Promise<T>, callerSignal: AbortSignal | undefined): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      if (callerSignal?.aborted) throw new GenerationAbortedError(callerSignal.reason);
      if (this.requests.closed.aborted) throw new EngineClosedError();
      if (error instanceof EngineError) throw error;
      throw new EngineError((error as Error)?.message ?? String(error), { cause: error });
    }
  }

  private track<T>(run: () => Promise<T>): Promise<T> {
    if (this.requests.closed.aborted) return Promise.reject(new EngineClosedError());
    const promise = run();
    this.inflight.add(promise);
    void promise.then(
      () => this.inflight.delete(promise),
      () => this.inflight.delete(promise),
    );
    return promise;
  }
}

function toEngineLevel(level: LlamaLogLevel): "debug" | "info" | "warn" | "error" {
  switch (level) {
    case LlamaLogLevel.fatal:
    case LlamaLogLevel.error:
      return "error";
    case LlamaLogLevel.warn:
      return "warn";
    case LlamaLogLevel.info:
      return "info";
    default:
      return "debug";
  }
}
