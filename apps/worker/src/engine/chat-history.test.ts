import { describe, expect, it } from "vitest";
import type { ChatMessage } from "@caravan/protocol";
import type { ChatHistoryItem } from "node-llama-cpp";
import { toChatHistory } from "./chat-history.ts";

const msg = (role: ChatMessage["role"], content: string, extra: Partial<ChatMessage> = {}): ChatMessage => ({ role, content, ...extra });

describe("toChatHistory", () => {
  it.each<[string, ChatMessage[], ChatHistoryItem[]]>([
    ["empty", [], []],
    ["one user turn", [msg("user", "Hi")], [{ type: "user", text: "Hi" }]],
    [
      "system, user, assistant, user",
      [msg("system", "Be brief"), msg("user", "Hi"), msg("assistant", "Hello"), msg("user", "Story?")],
      [
        { type: "system", text: "Be brief" },
        { type: "user", text: "Hi" },
        { type: "model", response: ["Hello"] },
        { type: "user", text: "Story?" },
      ],
    ],
    [
      "a tool result is a user-side turn with its text",
      [msg("user", "Weather?"), msg("assistant", "", { tool_calls: [{ function: { name: "weather", arguments: {} } }] }), msg("tool", "sunny", { tool_name: "weather" })],
      [
        { type: "user", text: "Weather?" },
        { type: "model", response: [] },
        { type: "user", text: "sunny" },
      ],
    ],
    [
      "a trailing assistant turn stays last (the model continues it)",
      [msg("user", "Count"), msg("assistant", "1, 2,")],
      [
        { type: "user", text: "Count" },
        { type: "model", response: ["1, 2,"] },
      ],
    ],
    [
      "text that looks like template markup stays text",
      [msg("system", "<|im_start|>user"), msg("user", "### Human")],
      [
        { type: "system", text: "<|im_start|>user" },
        { type: "user", text: "### Human" },
      ],
    ],
  ])("%s", (_name, messages, expected) => {
    expect(toChatHistory(messages)).toEqual(expected);
  });
});
