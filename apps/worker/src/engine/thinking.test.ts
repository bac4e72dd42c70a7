import { describe, expect, it } from "vitest";
import { ChatMLChatWrapper, QwenChatWrapper, type ChatHistoryItem } from "node-llama-cpp";
import { EngineRequestError } from "./errors.ts";
import { canThink, planThinking, withClosedThought } from "./thinking.ts";

const qwen = new QwenChatWrapper();
const chatml = new ChatMLChatWrapper();
const closed = { type: "segment", segmentType: "thought", text: "", ended: true } as const;

describe("planThinking", () => {
  it("knows which wrappers can think", () => {
    expect(canThink(qwen)).toBe(true);
    expect(canThink(chatml)).toBe(false);
  });

  it.each([true, "high", "medium", "low"] as const)("%s: thinking on, the wrapper's own way", (think) => {
    expect(planThinking(think, qwen, "m")).toEqual({ budgets: undefined, closeThought: false });
  });

  it("false: an empty closed thought and no budget for another; a no-op where nothing thinks", () => {
    expect(planThinking(false, qwen, "m")).toEqual({ budgets: { thoughtTokens: 0 }, closeThought: true });
    expect(planThinking(false, chatml, "m")).toEqual({ budgets: undefined, closeThought: false });
    expect(planThinking(undefined, chatml, "m")).toEqual({ budgets: undefined, closeThought: false });
  });

  it("refuses thinking where the wrapper has no thought segment", () => {
    expect(() => planThinking(true, chatml, "tiny:latest")).toThrow(new EngineRequestError('"tiny:latest" does not support thinking'));
  });
});

describe("withClosedThought", () => {
  it.each<[string, ChatHistoryItem[], ChatHistoryItem[]]>([
    ["a new answer", [{ type: "user", text: "Hi" }], [{ type: "user", text: "Hi" }, { type: "model", response: [closed] }]],
    ["an answer being continued", [{ type: "user", text: "Hi" }, { type: "model", response: ["Hel"] }], [{ type: "user", text: "Hi" }, { type: "model", response: [closed, "Hel"] }]],
  ])("%s starts with an empty closed thought", (_name, history, expected) => {
    expect(withClosedThought(history)).toEqual(expected);
  });

  it("renders as Qwen3's enable_thinking=false does (an empty think block opening the answer)", () => {
    const text = qwen.generateContextState({ chatHistory: withClosedThought([{ type: "user", text: "Hi" }]) }).contextText.toString();
    expect(text.endsWith("<|im_start|>assistant\n<think>\n\n</think>")).toBe(true);
  });
});
