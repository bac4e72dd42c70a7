import type { Think } from "@caravan/protocol";
import type { ChatHistoryItem, ChatModelSegment, ChatWrapper } from "node-llama-cpp";
import { EngineRequestError } from "./errors.ts";

/** Whether the chat wrapper knows a thought segment (a template with `<think>` or the like). */
export function canThink(wrapper: ChatWrapper): boolean {
  return wrapper.settings.segments?.thought != null;
}

export interface ThinkPlan {
  /** node-llama-cpp's segment budgets for generateResponse (undefined: the wrapper's own behaviour) */
  budgets: { thoughtTokens: number } | undefined;
  /** start the answer with an empty, closed thought */
  closeThought: boolean;
}

/**
 * `think` for a model. Thought text always goes to `thinking`, never to `content`.
 *
 * - absent: the model's own behaviour (a template that opens a thought at the start of the answer
 *   does so; its text is reported as thinking).
 * - true, "high", "medium", "low": thinking on. node-llama-cpp has no effort setting, so the
 *   levels mean true. A model whose wrapper has no thought segment: EngineRequestError (the
 *   gateway rejects this before, from the model's capabilities).
 * - false: what Qwen3's template does for enable_thinking=false: the answer starts after an empty,
 *   closed thought, and a thought budget of 0 closes any thought the model opens anyway. On a
 *   model that cannot think, nothing to do.
 */
export function planThinking(think: Think | undefined, wrapper: ChatWrapper, modelName: string): ThinkPlan {
  if (think === undefined) return { budgets: undefined, closeThought: false };
  const thinks = canThink(wrapper);
  if (think === false) return thinks ? { budgets: { thoughtTokens: 0 }, closeThought: true } : { budgets: undefined, closeThought: false };
  if (!thinks) throw new EngineRequestError(`"${modelName}" does not support thinking`);
  return { budgets: undefined, closeThought: false };
}

const EMPTY_THOUGHT: ChatModelSegment = { type: "segment", segmentType: "thought", text: "", ended: true };

/** `history` with the answer (a trailing model turn, or a new one) starting with an empty, closed thought. */
export function withClosedThought(history: readonly ChatHistoryItem[]): ChatHistoryItem[] {
  const last = history.at(-1);
  if (last?.type !== "model") return [...history, { type: "model", response: [EMPTY_THOUGHT] }];
  if (last.response.some((item) => typeof item === "object" && item.type === "segment" && item.segmentType === "thought")) return [...history];
  return [...history.slice(0, -1), { type: "model", response: [EMPTY_THOUGHT, ...last.response] }];
}
