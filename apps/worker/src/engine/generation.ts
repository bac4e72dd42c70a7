import { TokenMeter, type ChatHistoryItem, type LlamaChatResponse, type LlamaGrammar } from "node-llama-cpp";
import type { SamplingSettings } from "./sampling.ts";
import type { Slot } from "./loaded-model.ts";

export interface SlotGeneration {
  doneReason: "stop" | "length";
  text: string;
  /** prompt tokens evaluated for this request (a prefix already in the sequence is not evaluated again) */
  promptEvalCount: number;
  /** start → first sampled token, ns */
  promptEvalNs: number;
  /** tokens sampled, the final EOS or stop-sequence tokens included (as Ollama counts them) */
  evalCount: number;
  /** first sampled token → end, ns */
  evalNs: number;
  /** the signal aborted and the generation stopped early */
  aborted: boolean;
}

/**
 * Runs one LlamaChat generation on a slot and measures it. An abort through `signal` returns
 * what exists (`aborted: true`) instead of throwing, unless nothing was generated yet, in which
 * case node-llama-cpp throws the signal's reason; the engine turns both into its own error.
 */
export async function generateOnSlot(
  slot: Slot,
  history: ChatHistoryItem[],
  sampling: SamplingSettings,
  signal: AbortSignal,
  onText: (text: string) => void,
  grammar?: LlamaGrammar,
): Promise<SlotGeneration> {
  const { sequence } = slot;
  const started = process.hrtime.bigint();
  const meterAtStart = sequence.tokenMeter.getState();
  let firstTokenAt: bigint | undefined;
  let promptEvalCount = 0;
  let evalCount = 0;

  // num_predict -2: stop where node-llama-cpp would shift the context (it shifts when the
  // next token index reaches contextSize - 1), and report "length".
  const contextFull = new AbortController();
  slot.onToken = () => {
    evalCount++;
    if (firstTokenAt === undefined) {
      firstTokenAt = process.hrtime.bigint();
      // Every token evaluated so far is prompt: the meter's input (no logits) plus output
      // (the prompt's last token, whose logits gave the first sample).
      const used = TokenMeter.diff(sequence.tokenMeter, meterAtStart);
      promptEvalCount = used.usedInputTokens + used.usedOutputTokens;
    }
    if (sampling.stopWhenContextFull && sequence.nextTokenIndex + 1 >= sequence.contextSize) contextFull.abort();
  };

  let response: LlamaChatResponse | undefined;
  try {
    response = await slot.chat.generateResponse(history, {
      onTextChunk: onText,
      signal: AbortSignal.any([signal, contextFull.signal]),
      stopOnAbortSignal: true,
      temperature: sampling.temperature,
      topK: sampling.topK,
      topP: sampling.topP,
      minP: sampling.minP,
      seed: sampling.seed,
      ...(grammar !== undefined && { grammar }),
      repeatPenalty: sampling.repeatPenalty,
      ...(sampling.maxTokens !== undefined && { maxTokens: sampling.maxTokens }),
      ...(sampling.customStopTriggers !== undefined && { customStopTriggers: sampling.customStopTriggers }),
    });
  } catch (error) {
    // Aborted before the first token reached the response: node-llama-cpp throws the reason.
    if (!contextFull.signal.aborted || signal.aborted) throw error;
  } finally {
    slot.onToken = undefined;
  }

  const ended = process.hrtime.bigint();
  const stopReason = response?.metadata.stopReason ?? "abort";
  const abortedByCaller = stopReason === "abort" && signal.aborted;
  return {
    doneReason: stopReason === "maxTokens" || (stopReason === "abort" && contextFull.signal.aborted) ? "length" : "stop",
    text: response?.response ?? "",
    promptEvalCount,
    promptEvalNs: Number((firstTokenAt ?? ended) - started),
    evalCount,
    evalNs: firstTokenAt === undefined ? 0 : Number(ended - firstTokenAt),
    aborted: abortedByCaller,
  };
}
