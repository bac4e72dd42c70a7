import { LlamaCompletion, type LlamaGrammar } from "node-llama-cpp";
import type { SlotGeneration } from "./generation.ts";
import type { Slot } from "./loaded-model.ts";
import { RequestLogprobs } from "./logprobs.ts";
import { samplingOptions, type SamplingSettings } from "./sampling.ts";
import { SlotMeter } from "./slot-meter.ts";
import type { CompleteRequest } from "./types.ts";

/**
 * Continues raw text on a slot (/api/generate with `raw`, OpenAI's /v1/completions): no chat
 * template, the prompt goes to the model as written (after BOS). With `suffix`, a fill-in-the-
 * middle completion (the gateway sends one only for models with FIM tokens). Measured the same
 * way as a chat generation, so the metrics mean the same.
 */
export async function completeOnSlot(slot: Slot, req: CompleteRequest, sampling: SamplingSettings, signal: AbortSignal, grammar?: LlamaGrammar): Promise<SlotGeneration> {
  const { prompt, suffix } = req;
  const logprobs = RequestLogprobs.of(req, slot.tokenTexts);
  const meter = new SlotMeter(slot, sampling, logprobs && ((sample) => logprobs.sampled(sample)));
  slot.sampleMetadata = logprobs?.metadata;

  // A LlamaCompletion holds no state of its own beyond the sequence, so one per request is cheap;
  // it must not dispose the slot's sequence.
  const completion = new LlamaCompletion({ contextSequence: slot.sequence });
  const options = {
    onTextChunk: logprobs ? logprobs.before(req.onText) : req.onText,
    signal: meter.signal(signal),
    stopOnAbortSignal: true,
    ...samplingOptions(sampling),
    ...(grammar !== undefined && { grammar }),
  };
  let response: Awaited<ReturnType<LlamaCompletion["generateCompletionWithMeta"]>> | undefined;
  try {
    response = suffix !== undefined ? await completion.generateInfillCompletionWithMeta(prompt, suffix, options) : await completion.generateCompletionWithMeta(prompt, options);
  } catch (error) {
    if (!meter.isContextFullStop(signal)) throw error;
  } finally {
    meter.finish();
    slot.sampleMetadata = undefined;
    completion.dispose({ disposeSequence: false });
  }
  return { ...meter.result(response?.metadata.stopReason, signal), text: response?.response ?? "" };
}
