import type { ToolCall } from "@caravan/protocol";
import type { LlamaGrammar } from "node-llama-cpp";
import { toChatHistory } from "./chat-history.ts";
import { generateOnSlot, type ChatGeneration } from "./generation.ts";
import type { Slot } from "./loaded-model.ts";
import { logprobMetadata, toLogprob } from "./logprobs.ts";
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
export async function runChatOnSlot(slot: Slot, req: GenerateRequest, sampling: SamplingSettings, signal: AbortSignal, grammar: LlamaGrammar | undefined): Promise<ChatRun> {
  const tools = planTools(req.tools, req.toolChoice, grammar !== undefined);
  const think = planThinking(req.think, slot.chat.chatWrapper, req.entry.name);
  const history = think.closeThought ? withClosedThought(toChatHistory(req.messages)) : toChatHistory(req.messages);
  const top = req.logprobs ? Math.max(0, Math.min(req.topLogprobs ?? 0, 20)) : 0;
  const toolCalls: ToolCall[] = [];

  slot.switches.forceFunctionCall = tools.force;
  slot.switches.shownFunctions = tools.shown;
  slot.sampleMetadata = req.logprobs ? logprobMetadata(top) : undefined;
  try {
    const run = await generateOnSlot(slot, history, sampling, signal, req.onText, grammar, {
      functions: tools.functions,
      budgets: think.budgets,
      onThinking: req.onThinking,
      onFunctionCall: (call) => {
        const toolCall = toToolCall(call, toolCalls.length);
        toolCalls.push(toolCall);
        req.onToolCall?.(toolCall);
      },
      ...(req.logprobs && { onSample: (sample) => req.onLogprob?.(toLogprob(sample, top, slot.tokenTexts)) }),
    });
    return { ...run, toolCalls };
  } finally {
    slot.switches.forceFunctionCall = false;
    slot.switches.shownFunctions = undefined;
    slot.sampleMetadata = undefined;
  }
}
