import { TokenMeter } from "node-llama-cpp";
import type { Slot } from "./loaded-model.ts";
import type { SamplingSettings } from "./sampling.ts";
import type { SampledToken } from "./token-probe.ts";

/** What every generation on a slot measures, whatever produced it (chat or raw completion). */
export interface SlotMeasurement {
  /** every prompt token, as Ollama counts them: also those of a prefix the sequence still held */
  promptEvalCount: number;
  /** of those, the tokens of the prefix that was reused from the sequence's cache, not evaluated again */
  promptCachedCount: number;
  /** start → first sampled token, ns: evaluating the part of the prompt that was not cached */
  promptEvalNs: number;
  /** tokens sampled, the final EOS or stop-sequence tokens included (as Ollama counts them) */
  evalCount: number;
  /** first sampled token → end, ns */
  evalNs: number;
}

/**
 * Measures one generation on a slot from the tokens the slot's probe sees, and ends it with
 * "length" where num_predict -2 asks (see `contextFull`). Start it right before generating and
 * `finish()` it in a `finally`: it owns `slot.onToken` in between.
 */
export class SlotMeter {
  private readonly started = process.hrtime.bigint();
  private readonly meterAtStart;
  private firstTokenAt: bigint | undefined;
  private promptEvalCount = 0;
  private promptCachedCount = 0;
  private evalCount = 0;
  /**
   * num_predict -2: aborts where node-llama-cpp would shift the context (it shifts when the next
   * token index reaches contextSize - 1); the generation then ends with "length".
   */
  readonly contextFull = new AbortController();

  constructor(
    private readonly slot: Slot,
    private readonly sampling: SamplingSettings,
    onSample?: (sample: SampledToken) => void,
  ) {
    const { sequence } = slot;
    this.meterAtStart = sequence.tokenMeter.getState();
    slot.onToken = (sample) => {
      onSample?.(sample);
      this.evalCount++;
      if (this.firstTokenAt === undefined) {
        this.firstTokenAt = process.hrtime.bigint();
        // The sequence now holds the whole prompt (after any context shift): that is the count.
        // What this request evaluated is the meter's input (no logits) plus output (the prompt's
        // last token, whose logits gave the first sample); the rest was already in the sequence.
        const used = TokenMeter.diff(sequence.tokenMeter, this.meterAtStart);
        const evaluated = used.usedInputTokens + used.usedOutputTokens;
        this.promptEvalCount = Math.max(sequence.nextTokenIndex, evaluated);
        this.promptCachedCount = this.promptEvalCount - evaluated;
      }
      if (sampling.stopWhenContextFull && sequence.nextTokenIndex + 1 >= sequence.contextSize) this.contextFull.abort();
    };
  }

  /**
   * The caller's signal, or the context filling up under num_predict -2. Without -2 it is the
   * caller's own: AbortSignal.any costs tens of µs on the way to the first token.
   */
  signal(caller: AbortSignal): AbortSignal {
    return this.sampling.stopWhenContextFull ? AbortSignal.any([caller, this.contextFull.signal]) : caller;
  }

  /** Whether an error thrown by the generation is the context-full stop, not a failure. */
  isContextFullStop(caller: AbortSignal): boolean {
    return this.contextFull.signal.aborted && !caller.aborted;
  }

  /** Releases the slot's token hook (call in `finally`). */
  finish(): void {
    this.slot.onToken = undefined;
  }

  /** The measurements and how the generation ended, from node-llama-cpp's stop reason. */
  result(stopReason: string | undefined, caller: AbortSignal): SlotMeasurement & { doneReason: "stop" | "length"; aborted: boolean } {
    const ended = process.hrtime.bigint();
    const reason = stopReason ?? "abort";
    return {
      doneReason: reason === "maxTokens" || (reason === "abort" && this.contextFull.signal.aborted) ? "length" : "stop",
      aborted: reason === "abort" && caller.aborted,
      promptEvalCount: this.promptEvalCount,
      promptCachedCount: this.promptCachedCount,
      promptEvalNs: Number((this.firstTokenAt ?? ended) - this.started),
      evalCount: this.evalCount,
      evalNs: this.firstTokenAt === undefined ? 0 : Number(ended - this.firstTokenAt),
    };
  }
}
