import { LlamaChat, LlamaCompletion, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel as NativeModel, type SequenceEvaluateMetadataOptions } from "node-llama-cpp";
import type { ModelOptions, ToolCall } from "@caravan/protocol";
import type { CatalogEntry } from "../catalog/catalog.ts";
import { runChatOnSlot } from "./chat-request.ts";
import { chatWrapperFor } from "./chat-wrapper.ts";
import { completeOnSlot } from "./completion.ts";
import type { LoadedModel } from "./engine-api.ts";
import { EngineClosedError, EngineError, EngineRequestError, GenerationAbortedError } from "./errors.ts";
import type { SlotGeneration } from "./generation.ts";
import type { JsonGrammars } from "./json-grammar.ts";
import type { LoadSettings } from "./load-options.ts";
import { ModelEmbedder } from "./embedding.ts";
import { RequestSignals } from "./request-signals.ts";
import { toSamplingSettings, type SamplingSettings } from "./sampling.ts";
import { SlotPool } from "./slot-pool.ts";
import { TokenTexts } from "./logprobs.ts";
import { noSwitches, withSwitches, type ChatWrapperSwitches } from "./request-chat-wrapper.ts";
import { probeSampledTokens, type SampledToken } from "./token-probe.ts";
import { keepInStep, StepBarrier } from "./step-barrier.ts";
import type { CompleteRequest, EmbedRequest, EmbedResult, EngineLog, GenerateRequest, GenerateResult } from "./types.ts";

/** One sequence of the model's context, with the chat that generates on it. */
export interface Slot {
  readonly index: number;
  readonly sequence: LlamaContextSequence;
  readonly chat: LlamaChat;
  /** set by the request running on this slot: called for every sampled token */
  onToken: ((sample: SampledToken) => void) | undefined;
  /** set by the request running on this slot: what to sample with each token (logprobs); undefined costs nothing */
  sampleMetadata: SequenceEvaluateMetadataOptions | undefined;
  /** set by the request running on this slot: its switches of `chat`'s wrapper (tool forcing) */
  readonly switches: ChatWrapperSwitches;
  /** the model's token texts (shared by the model's slots) */
  readonly tokenTexts: TokenTexts;
}

/** What a LlamaLoadedModel shares with the engine that loaded it. */
export interface LlamaShared {
  grammars: JsonGrammars;
  log: EngineLog;
  /** called once the model is disposed (or failed to be) */
  disposed(model: LlamaLoadedModel): void;
}

/** One generation on a slot, with its sampling settings and its request's signal. */
type SlotRun = (slot: Slot, sampling: SamplingSettings, signal: AbortSignal) => Promise<SlotGeneration & { thinking?: string; toolCalls?: ToolCall[] }>;

/**
 * A GGUF model in memory with node-llama-cpp: one context with `slots` sequences. Concurrent
 * requests run on different sequences of the one context, which node-llama-cpp batches together
 * (StepBarrier keeps them in step). Sequences live as long as the context, so a follow-up request
 * reuses its cached prefix.
 */
export class LlamaLoadedModel implements LoadedModel {
  /** embeddings run on a context of their own, created on first use */
  private readonly embedder: ModelEmbedder;
  private readonly requests = new RequestSignals();
  private readonly inflight = new Set<Promise<unknown>>();
  private disposed: Promise<void> | undefined;

  private constructor(
    readonly name: string,
    private readonly model: NativeModel,
    private readonly context: LlamaContext,
    private readonly slotList: readonly Slot[],
    private readonly pool: SlotPool<Slot>,
    /** keeps the slots' decodes together; its counts say how many sequences a decode took */
    readonly steps: StepBarrier,
    readonly loadDurationNs: number,
    /** the chat template's node-llama-cpp wrapper, for the log */
    readonly chatWrapperName: string,
    private readonly shared: LlamaShared,
    threads: number,
  ) {
    this.embedder = new ModelEmbedder(model, context.contextSize, threads);
  }

  /** Loads the model and its context; logs "model loaded" (or "model load failed", then throws an EngineError). */
  static async load(llama: Llama, entry: CatalogEntry, settings: LoadSettings, sequences: number, shared: LlamaShared): Promise<LlamaLoadedModel> {
    const started = process.hrtime.bigint();
    let loaded: LlamaLoadedModel;
    try {
      loaded = await LlamaLoadedModel.create(llama, entry, settings, sequences, shared, started);
    } catch (error) {
      shared.log("error", "model load failed", { model: entry.name, error: String(error) });
      throw new EngineError(`failed to load model ${entry.name}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
    shared.log("info", "model loaded", {
      model: entry.name,
      ms: Math.round(loaded.loadDurationNs / 1e6),
      contextSize: loaded.contextSize,
      sequences,
      batchSize: settings.batchSize,
      threads: settings.threads,
      chatWrapper: loaded.chatWrapperName,
    });
    return loaded;
  }

  private static async create(llama: Llama, entry: CatalogEntry, settings: LoadSettings, sequences: number, shared: LlamaShared, started: bigint): Promise<LlamaLoadedModel> {
    const model = await llama.loadModel({
      modelPath: entry.path,
      ...(settings.useMmap !== undefined && { useMmap: settings.useMmap }),
      ...(settings.gpuLayers !== undefined && { gpuLayers: settings.gpuLayers }),
    });
    let context: LlamaContext;
    try {
      context = await model.createContext({ sequences, contextSize: settings.contextSize, threads: settings.threads, batchSize: settings.batchSize });
    } catch (error) {
      await model.dispose().catch(() => {});
      throw error;
    }
    const chatWrapper = chatWrapperFor(model, entry.hasChatTemplate, entry.sidecar?.template);
    const tokenTexts = new TokenTexts(model);
    const barrier = new StepBarrier();
    const slots = Array.from({ length: sequences }, (_, index) => {
      const sequence = context.getSequence();
      keepInStep(sequence, barrier);
      const switches = noSwitches();
      const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: withSwitches(chatWrapper, switches) });
      const slot: Slot = { index, sequence, chat, onToken: undefined, sampleMetadata: undefined, switches, tokenTexts };
      probeSampledTokens(sequence, { metadata: () => slot.sampleMetadata, onToken: (sample) => slot.onToken?.(sample) });
      return slot;
    });
    const loadNs = Number(process.hrtime.bigint() - started);
    return new LlamaLoadedModel(entry.name, model, context, slots, new SlotPool(slots), barrier, loadNs, chatWrapper.wrapperName, shared, settings.threads);
  }

  /** per-sequence context size after the library's rounding */
  get contextSize(): number {
    return this.context.contextSize;
  }

  get slots(): number {
    return this.pool.size;
  }

  generate(req: GenerateRequest): Promise<GenerateResult> {
    return this.onSlot(req, async (slot, sampling, signal) => {
      const grammar = await this.shared.grammars.forFormat(req.format);
      await this.shared.grammars.checkTools(req.tools, req.toolChoice);
      return runChatOnSlot(slot, req, sampling, signal, grammar, this.name);
    });
  }

  complete(req: CompleteRequest): Promise<GenerateResult> {
    return this.onSlot(req, async (slot, sampling, signal) => {
      if (req.suffix !== undefined && !new LlamaCompletion({ contextSequence: slot.sequence }).infillSupported) {
        throw new EngineRequestError(`${this.name} does not support insert: it has no fill-in-the-middle tokens`);
      }
      const grammar = await this.shared.grammars.forFormat(req.format);
      return completeOnSlot(slot, req, sampling, signal, grammar);
    });
  }

  /** Embeds each input; takes no sequence (the embedder has a context of its own). */
  embed(req: EmbedRequest): Promise<EmbedResult> {
    return this.track(() =>
      this.requests.run(req.signal, async (signal) => {
        const { vectors, promptEvalCount, promptEvalNs } = await this.guard(this.embedder.embed(req.inputs, req, signal), req.signal);
        return { vectors, metrics: { load_duration: 0, prompt_eval_count: promptEvalCount, prompt_cached_count: 0, prompt_eval_duration: promptEvalNs, eval_count: 0, eval_duration: 0 } };
      }),
    );
  }

  /** Aborts what waits or runs (EngineClosedError), then frees the context and the model; logs "model unloaded". Every step runs even if one fails. */
  dispose(): Promise<void> {
    this.disposed ??= this.free().finally(() => this.shared.disposed(this));
    return this.disposed;
  }

  private async free(): Promise<void> {
    this.requests.close(new EngineClosedError());
    this.pool.close(new EngineClosedError());
    await Promise.allSettled([...this.inflight]);
    const errors: unknown[] = [];
    for (const slot of this.slotList) {
      try {
        slot.chat.dispose({ disposeSequence: true });
      } catch (error) {
        errors.push(error);
      }
    }
    await this.embedder.dispose().catch((error: unknown) => errors.push(error));
    await this.context.dispose().catch((error: unknown) => errors.push(error));
    await this.model.dispose().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw new AggregateError(errors, `disposing ${this.name} failed`);
    this.shared.log("info", "model unloaded", { model: this.name });
  }

  /**
   * The frame every text generation runs in: a free slot, the sampling settings, and the result
   * turned into metrics or the documented errors.
   */
  private onSlot(req: { options: ModelOptions; signal: AbortSignal }, run: SlotRun): Promise<GenerateResult> {
    return this.track(() =>
      this.requests.run(req.signal, async (signal) => {
        const slot = await this.guard(this.pool.acquire(signal), req.signal);
        try {
          const { settings: sampling, ignored } = toSamplingSettings(req.options, slot.sequence.contextSize);
          if (ignored.length > 0) this.shared.log("warn", "options not supported by the engine, ignored", { model: this.name, options: ignored });
          const result = await this.guard(run(slot, sampling, signal), req.signal);
          const metrics = {
            load_duration: 0,
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
          this.steps.leave(slot.sequence);
          this.pool.release(slot);
        }
      }),
    );
  }

  /** Rewrites a failure while the caller's signal or dispose() aborted into the documented errors. */
  private async guard<T>(promise: Promise<T>, callerSignal: AbortSignal): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      if (callerSignal.aborted) throw new GenerationAbortedError(callerSignal.reason);
      if (this.requests.closed.aborted) throw new EngineClosedError();
      if (error instanceof EngineError) throw error;
      throw new EngineError((error as Error)?.message ?? String(error), { cause: error });
    }
  }

  /** Runs a request, known to dispose() until it settles. */
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
