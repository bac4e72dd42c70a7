import type { ToolCall } from "@caravan/protocol";
import type { LlamaGrammar } from "node-llama-cpp";
import { toChatHistory } from "./chat-history.ts";
import { generateOnSlot, type ChatGeneration } from "./generation.ts";
import type { Slot } from "./loaded-model.ts";
import { RequestLogprobs } from "./logprobs.ts";
import type { SamplingSettings } from "./sampling.ts";
import { planThinking, withClosedThought } from "./thinking.ts";
import { planTools, toToolCall } from "./tools.ts";
import type { GenerateRequest } from "./types.ts";

export interface ChatRun extends ChatGeneration {
  toolCalls: ToolCall[];
}

/**
 * One chat request on a slot: its tools, thinking and logprobs turned into the slot's switches
 * and LlamaChat's options, which are reset afterwards (the slot serves other requests next).
 * Throws EngineRequestError for what cannot be done as asked, before anything is generated.
 */
export async function runChatOnSlot(slot: Slot, req: GenerateRequest, sampling: SamplingSettings, signal: AbortSignal, grammar: LlamaGrammar | undefined, model: string): Promise<ChatRun> {
  const tools = planTools(req.tools, req.toolChoice, grammar !== undefined);
  const think = planThinking(req.think, slot.chat.chatWrapper, model);
  const history = think.closeThought ? withClosedThought(toChatHistory(req.messages)) : toChatHistory(req.messages);
  const logprobs = RequestLogprobs.of(req, slot.tokenTexts);
  const toolCalls: ToolCall[] = [];

  slot.switches.forceFunctionCall = tools.force;
  slot.switches.shownFunctions = tools.shown;
  slot.sampleMetadata = logprobs?.metadata;
  try {
    const run = await generateOnSlot(slot, history, sampling, signal, logprobs ? logprobs.before(req.onText) : req.onText, grammar, {
      functions: tools.functions,
      budgets: think.budgets,
      onThinking: logprobs ? logprobs.before(req.onThinking) : req.onThinking,
      onFunctionCall: (call) => {
        const toolCall = toToolCall(call, toolCalls.length);
        toolCalls.push(toolCall);
        req.onToolCall?.(toolCall);
      },
      ...(logprobs && { onSample: (sample) => logprobs.sampled(sample) }),
    });
    return { ...run, toolCalls };
  } finally {
    slot.switches.forceFunctionCall = false;
    slot.switches.shownFunctions = undefined;
    slot.sampleMetadata = undefined;
  }
}
