import type { ChatHistoryItem, ChatModelFunctions, LlamaChatResponse, LlamaChatResponseChunk, LlamaGrammar } from "node-llama-cpp";
import type { SampledToken } from "./token-probe.ts";
import { samplingOptions, type SamplingSettings } from "./sampling.ts";
import type { Slot } from "./loaded-model.ts";
import { SlotMeter, type SlotMeasurement } from "./slot-meter.ts";

export interface SlotGeneration extends SlotMeasurement {
  doneReason: "stop" | "length";
  text: string;
  /** the signal aborted and the generation stopped early */
  aborted: boolean;
}

/** What a chat request adds to a plain generation: tools, thinking, per-token probabilities. */
export interface ChatFeatures {
  /** functions the model may call (see tools.ts) */
  functions?: ChatModelFunctions;
  /** node-llama-cpp segment budgets (see thinking.ts) */
  budgets?: { thoughtTokens: number };
  /** thought text, as it is released */
  onThinking?: (text: string) => void;
  /** each function call, once it is complete */
  onFunctionCall?: (call: { functionName: string; params: unknown }) => void;
  /** each sampled token, at the moment it is sampled (with the slot's sampleMetadata) */
  onSample?: (sample: SampledToken) => void;
}

export interface ChatGeneration extends SlotGeneration {
  /** the thought text (what onThinking delivered) */
  thinking: string;
  functionCalls: { functionName: string; params: unknown }[];
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
  features: ChatFeatures = {},
): Promise<ChatGeneration> {
  const meter = new SlotMeter(slot, sampling, features.onSample);
  // Thought segments go to thinking, everything else to the content.
  let text = "";
  let thinking = "";
  const functionCalls: ChatGeneration["functionCalls"] = [];
  const onFunctionCall = (call: { functionName: string; params: unknown }) => {
    functionCalls.push(call);
    features.onFunctionCall?.(call);
  };
  let response: LlamaChatResponse<ChatModelFunctions | undefined> | undefined;
  try {
    const options = {
      onResponseChunk: (chunk: LlamaChatResponseChunk) => {
        if (chunk.text === "") return;
        if (chunk.type === "segment" && chunk.segmentType === "thought") {
          thinking += chunk.text;
          features.onThinking?.(chunk.text);
        } else {
          text += chunk.text;
          onText(chunk.text);
        }
      },
      ...(features.budgets !== undefined && { budgets: features.budgets }),
      signal: meter.signal(signal),
      stopOnAbortSignal: true,
      ...samplingOptions(sampling),
    };
    // node-llama-cpp takes a grammar or functions, never both (tools.ts decides which).
    response = await slot.chat.generateResponse(
      history,
      features.functions !== undefined ? { ...options, functions: features.functions, onFunctionCall } : { ...options, ...(grammar !== undefined && { grammar }) },
    );
  } catch (error) {
    // Aborted before the first token reached the response: node-llama-cpp throws the reason.
    if (!meter.isContextFullStop(signal)) throw error;
  } finally {
    meter.finish();
  }
  return { ...meter.result(response?.metadata.stopReason, signal), text, thinking, functionCalls };
}
