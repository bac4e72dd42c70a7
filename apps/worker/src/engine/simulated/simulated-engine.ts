import type { ChatMessage, ModelOptions } from "@caravan/protocol";
import type { CatalogEntry } from "../../catalog/catalog.ts";
import type { Engine, LoadedModel } from "../engine-api.ts";
import { EngineClosedError, GenerationAbortedError } from "../errors.ts";
import { raceSignal } from "../race-signal.ts";
import { RequestSignals } from "../request-signals.ts";
import { SlotPool } from "../slot-pool.ts";
import { StepClock } from "./step-clock.ts";
import { loadSettingsKey, resolveLoadSettings, type LoadSettings } from "../load-options.ts";
import type { LoadPlan } from "../load-plan.ts";
import type { CompleteRequest, EmbedRequest, EmbedResult, EngineLog, GenerateRequest, GenerateResult } from "../types.ts";

export interface SimulatedEngineConfig {
  /** decode rate of one stream (each stream gets it, however many run) */
  tokensPerSecond: number;
  /** prompt evaluation rate; a prompt's token count is its characters / 4 */
  promptTokensPerSecond: number;
  /** how long a load takes */
  loadMs: number;
  /** memory one loaded model takes, bytes (what residency budgets with) */
  modelBytes: number;
  /** sequences per model; more requests wait for a free one */
  numParallel: number;
  /**
   * sequences that take their tokens from one decode step, as one GPU's batch does; a model with
   * more sequences stands for several GPUs, whose steps are not aligned
   */
  batchSize: number;
  /** num_ctx when a request does not set it */
  defaultNumCtx: number;
  /** tokens generated when num_predict is not set (the simulation never stops by itself) */
  defaultNumPredict?: number;
  /**
   * each token's text is the wall-clock time it was generated (epoch ms, 3 decimals, then a space)
   * instead of a word: a client on the same machine subtracts it from the time it received it
   */
  stampTokens?: boolean;
  log?: EngineLog;
}

const WORDS = ["the", "caravan", "crossed", "a", "quiet", "desert", "at", "dawn", "and", "every", "camel", "carried", "one", "small", "lamp", "home"];
const EMBED_DIMS = 64;

/**
 * A SIMULATED engine for load tests and benchmarks (CARAVAN_ENGINE=simulated), never a model:
 * loads take `loadMs`, prompts `promptTokens / promptTokensPerSecond`, and each stream produces
 * `tokensPerSecond` deterministic tokens on a timer, so it costs almost no CPU and the gateway,
 * Redis and the transport are what a benchmark measures. `numParallel` sequences per model
 * (more requests wait, in the real engine's SlotPool), `modelBytes` per model: residency,
 * eviction and routing see what they would see with real models.
 */
export class SimulatedEngine implements Engine {
  readonly name = "simulated";
  private readonly models = new Set<SimulatedModel>();
  private readonly closing = new AbortController();
  private closed: Promise<void> | undefined;
  private readonly log: EngineLog;

  constructor(private readonly config: SimulatedEngineConfig) {
    if (!(config.tokensPerSecond > 0)) throw new RangeError(`tokensPerSecond must be > 0, got ${config.tokensPerSecond}`);
    if (!(config.promptTokensPerSecond > 0)) throw new RangeError(`promptTokensPerSecond must be > 0, got ${config.promptTokensPerSecond}`);
    if (!Number.isInteger(config.numParallel) || config.numParallel < 1) throw new RangeError(`numParallel must be a positive integer, got ${config.numParallel}`);
    if (!Number.isInteger(config.batchSize) || config.batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${config.batchSize}`);
    this.log = config.log ?? (() => {});
    this.log("info", "simulated engine ready (no model runs: timers only)", {
      engine: this.name,
      tokensPerSecond: config.tokensPerSecond,
      promptTokensPerSecond: config.promptTokensPerSecond,
      loadMs: config.loadMs,
      modelBytes: config.modelBytes,
    });
  }

  /** Takes loadMs (close() cuts it short with EngineClosedError). */
  async load(entry: CatalogEntry, settings: LoadSettings): Promise<LoadedModel> {
    const started = performance.now();
    await sleep(this.config.loadMs, this.closing.signal, undefined);
    const model = new SimulatedModel(entry.name, settings.contextSize, nsSince(started), this.config, this.log, () => this.models.delete(model));
    this.models.add(model);
    this.log("info", "model loaded", { model: entry.name, engine: this.name, ms: Math.round(performance.now() - started), sizeBytes: this.config.modelBytes });
    return model;
  }

  async device(): Promise<{ gpu: boolean }> {
    return { gpu: false };
  }

  /** Bounded as a real model's would be; the configured size per model, whatever the context: the simulation has no KV cache. */
  planLoad(entry: CatalogEntry, options: ModelOptions): LoadPlan {
    const { settings, adjustments } = resolveLoadSettings(options, entry, { defaultNumCtx: this.config.defaultNumCtx, threads: 1, sequences: this.config.numParallel, gpu: false });
    return { settings, key: loadSettingsKey(settings), bytes: this.config.modelBytes, adjustments };
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing.abort(new EngineClosedError());
      await Promise.allSettled([...this.models].map((m) => m.dispose()));
      this.log("info", "engine closed", { engine: this.name });
    })();
    return this.closed;
  }
}

/**
 * A simulated model in memory. As in a batching engine, the streams of one batch (`batchSize`
 * sequences) take their tokens from common decode steps (StepClock); steps are absolute, so a
 * late timer does not slow the rate down.
 */
class SimulatedModel implements LoadedModel {
  readonly slots: number;
  private readonly requests = new RequestSignals();
  private readonly pool: SlotPool<number>;
  /** decode steps, one clock per batch of sequences: the streams of one batch get their tokens together */
  private readonly clocks: StepClock[];
  private disposed = false;

  constructor(
    readonly name: string,
    readonly contextSize: number,
    readonly loadDurationNs: number,
    private readonly config: SimulatedEngineConfig,
    private readonly log: EngineLog,
    private readonly onDisposed: () => void,
  ) {
    this.slots = config.numParallel;
    this.pool = new SlotPool(Array.from({ length: config.numParallel }, (_, i) => i));
    // one clock per batch of sequences, their steps spread evenly over the token interval
    const interval = 1000 / config.tokensPerSecond;
    const batches = Math.ceil(config.numParallel / config.batchSize);
    this.clocks = Array.from({ length: batches }, (_, i) => new StepClock(interval, (i * interval) / batches));
  }

  generate(req: GenerateRequest): Promise<GenerateResult> {
    return this.stream(promptText(req.messages), req);
  }

  complete(req: CompleteRequest): Promise<GenerateResult> {
    return this.stream(req.prompt + (req.suffix ?? ""), req);
  }

  /** Deterministic unit vectors (64 dims) from each input's text, after the prompt-evaluation time. */
  embed(req: EmbedRequest): Promise<EmbedResult> {
    return this.requests.run(req.signal, async (signal) => {
      const promptTokens = req.inputs.reduce((sum, input) => sum + tokenCount(input), 0);
      const started = performance.now();
      await sleep((promptTokens / this.config.promptTokensPerSecond) * 1000, signal, req.signal);
      const vectors = req.inputs.map((input) => vectorFor(input, req.dimensions ?? EMBED_DIMS));
      return { vectors, metrics: { load_duration: 0, prompt_eval_count: promptTokens, prompt_cached_count: 0, prompt_eval_duration: nsSince(started), eval_count: 0, eval_duration: 0 } };
    });
  }

  /** Requests still waiting or running reject with EngineClosedError. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.requests.close(new EngineClosedError());
    this.pool.close(new EngineClosedError());
    this.onDisposed();
    this.log("info", "model unloaded", { model: this.name, engine: "simulated" });
  }

  private stream(prompt: string, req: { options: ModelOptions; signal: AbortSignal; onText: (text: string) => void }): Promise<GenerateResult> {
    return this.requests.run(req.signal, async (signal) => {
      // the pool takes the request out of its line when `signal` aborts
      const slot = await this.pool.acquire(signal).catch(rethrowAbort(signal, req.signal));
      try {
        return await this.decode(prompt, req.options, signal, req.signal, req.onText);
      } finally {
        this.pool.release(slot);
      }
    });
  }

  private async decode(prompt: string, options: ModelOptions, signal: AbortSignal, callerSignal: AbortSignal, onText: (text: string) => void): Promise<GenerateResult> {
    const promptTokens = tokenCount(prompt);
    const promptStarted = performance.now();
    await sleep((promptTokens / this.config.promptTokensPerSecond) * 1000, signal, callerSignal);
    const promptEvalNs = nsSince(promptStarted);
    const numPredict = options.num_predict !== undefined && options.num_predict >= 0 ? options.num_predict : (this.config.defaultNumPredict ?? 128);
    const seed = hash(prompt);
    const decodeStarted = performance.now();
    let text = "";
    let count = 0;
    // The simulation has no cache: every prompt token is evaluated.
    const metrics = () => ({ load_duration: 0, prompt_eval_count: promptTokens, prompt_cached_count: 0, prompt_eval_duration: promptEvalNs, eval_count: count, eval_duration: nsSince(decodeStarted) });
    // a new stream joins the batch with the most room
    const clock = this.clocks.reduce((least, c) => (c.running < least.running ? c : least));
    clock.running++;
    const ticks = ticker(clock, signal, callerSignal);
    const firstStep = clock.current() + 1;
    try {
      while (count < numPredict) {
        // token i comes from step firstStep + i: a late timer does not push the rest back
        await ticks.until(firstStep + count);
        const piece = this.config.stampTokens ? `${(performance.timeOrigin + performance.now()).toFixed(3)} ` : `${count === 0 ? "" : " "}${WORDS[(seed + count) % WORDS.length]}`;
        count++;
        text += piece;
        onText(piece);
      }
    } catch (error) {
      if (error instanceof GenerationAbortedError) throw new GenerationAbortedError(error.cause, { text, metrics: metrics() });
      throw error;
    } finally {
      ticks.dispose();
      clock.running--;
    }
    return { doneReason: "length", text, metrics: metrics() };
  }
}

/** Waits `ms` (≤ 0: a macrotask turn is skipped only when needed); rejects on abort. */
function sleep(ms: number, signal: AbortSignal, callerSignal: AbortSignal | undefined): Promise<void> {
  return abortable(new Promise<void>((resolve) => (ms <= 0 ? resolve() : setTimeout(resolve, ms))), signal, callerSignal);
}

/**
 * Waits between tokens with one abort listener for the whole decode: the simulation has to cost
 * next to nothing, and an AbortSignal listener added and removed per token was a visible share
 * of a simulated worker's CPU at hundreds of streams.
 */
function ticker(clock: StepClock, signal: AbortSignal, callerSignal: AbortSignal) {
  let interrupt: ((error: unknown) => void) | undefined;
  const onAbort = () => interrupt?.(abortError(callerSignal));
  signal.addEventListener("abort", onAbort, { once: true });
  return {
    until: (step: number) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(abortError(callerSignal));
        const wait = clock.at(step, resolve);
        interrupt = (error) => {
          wait.cancel();
          reject(error);
        };
      }),
    dispose: () => signal.removeEventListener("abort", onAbort),
  };
}

/** `promise`, or the documented error as soon as `signal` aborts (the caller's abort or close()). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal, callerSignal: AbortSignal | undefined): Promise<T> {
  return raceSignal(promise, signal).catch(rethrowAbort(signal, callerSignal));
}

/** A failure as the documented error when `signal` aborted, else as it is. */
function rethrowAbort(signal: AbortSignal, callerSignal: AbortSignal | undefined): (error: unknown) => never {
  return (error) => {
    throw signal.aborted ? abortError(callerSignal) : error;
  };
}

/** What an aborted wait throws: the caller stopped the generation, or the engine is closing. */
function abortError(callerSignal: AbortSignal | undefined): Error {
  return callerSignal?.aborted ? new GenerationAbortedError(callerSignal.reason) : new EngineClosedError();
}

function promptText(messages: ChatMessage[]): string {
  return messages.map((m) => `${m.role}: ${m.content ?? ""}`).join("\n");
}

/** About 4 characters per token, at least one. */
function tokenCount(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function nsSince(startMs: number): number {
  return Math.round((performance.now() - startMs) * 1e6);
}

/** FNV-1a, 32 bits: the same text always gives the same output. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function vectorFor(text: string, dims: number): number[] {
  let state = hash(text) || 1;
  const vector = Array.from({ length: dims }, () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) / 2 ** 32) * 2 - 1;
  });
  const norm = Math.hypot(...vector) || 1;
  return vector.map((x) => x / norm);
}
