import { LlamaChat, type Llama, type LlamaContext, type LlamaContextSequence, type LlamaModel, type SequenceEvaluateMetadataOptions } from "node-llama-cpp";
import type { CatalogEntry } from "../catalog/catalog.ts";
import { chatWrapperFor } from "./chat-wrapper.ts";
import type { LoadSettings } from "./load-options.ts";
import { ModelEmbedder } from "./embedding.ts";
import { SlotPool } from "./slot-pool.ts";
import { TokenTexts } from "./logprobs.ts";
import { noSwitches, withSwitches, type ChatWrapperSwitches } from "./request-chat-wrapper.ts";
import { probeSampledTokens, type SampledToken } from "./token-probe.ts";
import { keepInStep, StepBarrier } from "./step-barrier.ts";

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

/**
 * A model in memory: one context with `sequences` sequences, each a slot. Concurrent requests
 * run on different sequences of the one context, which node-llama-cpp batches together.
 * Sequences live as long as the context, so a follow-up request reuses its cached prefix.
 */
export class LoadedModel {
  private disposed = false;
  /** embeddings run on a context of their own, created on first use */
  readonly embedder: ModelEmbedder;

  private constructor(
    readonly name: string,
    readonly settings: LoadSettings,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly slots: readonly Slot[],
    readonly pool: SlotPool<Slot>,
    readonly chatWrapperName: string,
    /** keeps the slots' decodes together; its counts say how many sequences a decode took */
    readonly steps: StepBarrier,
  ) {
    this.embedder = new ModelEmbedder(model, context.contextSize, settings.threads);
  }

  static async load(llama: Llama, entry: CatalogEntry, settings: LoadSettings, sequences: number): Promise<LoadedModel> {
    const model = await llama.loadModel({
      modelPath: entry.path,
      ...(settings.useMmap !== undefined && { useMmap: settings.useMmap }),
      ...(settings.gpuLayers !== undefined && { gpuLayers: settings.gpuLayers }),
    });
    let context: LlamaContext;
    try {
      context = await model.createContext({
        sequences,
        contextSize: settings.contextSize,
        threads: settings.threads,
        batchSize: settings.batchSize,
      });
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
    return new LoadedModel(entry.name, settings, model, context, slots, new SlotPool(slots), chatWrapper.wrapperName, barrier);
  }

  /** per-sequence context size after the library's rounding */
  get contextSize(): number {
    return this.context.contextSize;
  }

  /** Frees the context and the model. Safe to call twice; every step runs even if one fails. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const errors: unknown[] = [];
    for (const slot of this.slots) {
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
  }
}
