import { describe, expect, it } from "vitest";
import type { ChatHistoryItem } from "node-llama-cpp";
import { PlainChatWrapper } from "./chat-wrapper.ts";

const render = (chatHistory: ChatHistoryItem[]) => new PlainChatWrapper().generateContextState({ chatHistory }).contextText.toString();

describe("PlainChatWrapper", () => {
  it.each<[string, ChatHistoryItem[], string]>([
    ["a fresh answer ends with the assistant prefix", [{ type: "user", text: "Hi" }, { type: "model", response: [] }], "BOSuser: Hi\nassistant: "],
    [
      "a whole conversation",
      [
        { type: "system", text: "Be kind" },
        { type: "user", text: "Hi" },
        { type: "model", response: ["Hello"] },
        { type: "user", text: "Story" },
        { type: "model", response: [] },
      ],
      "BOSsystem: Be kind\nuser: Hi\nassistant: Hello\nuser: Story\nassistant: ",
    ],
    ["an unfinished answer is continued", [{ type: "user", text: "Count" }, { type: "model", response: ["1, 2,"] }], "BOSuser: Count\nassistant: 1, 2,"],
    ["consecutive user turns stay separate lines", [{ type: "user", text: "a" }, { type: "user", text: "b" }, { type: "model", response: [] }], "BOSuser: a\nuser: b\nassistant: "],
  ])("%s", (_name, history, expected) => {
    expect(render(history)).toBe(expected);
  });

  it("writes only letters, ':', spaces and newlines of its own", () => {
    const markup = render([
      { type: "system", text: "" },
      { type: "user", text: "" },
      { type: "model", response: [""] },
      { type: "model", response: [] },
    ]);
    expect(markup.replace(/^BOS/, "")).toMatch(/^[a-z: \n]*$/);
  });

  it("stops where the next user turn would begin, or at EOS", () => {
    const state = new PlainChatWrapper().generateContextState({ chatHistory: [{ type: "user", text: "Hi" }] });
    expect(state.stopGenerationTriggers.map((t) => t.toString())).toEqual(["EOS", "\nuser:", "\nuser:"]);
  });
});
