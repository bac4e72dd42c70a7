import { describe, expect, it } from "vitest";
import type { ChatMessage } from "@caravan/protocol";
import { ChatMLChatWrapper, type ChatHistoryItem } from "node-llama-cpp";
import { PlainChatWrapper } from "./chat-wrapper.ts";
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
      "a tool call and its result become a function call in the model response",
      [msg("user", "Weather?"), msg("assistant", "", { tool_calls: [{ function: { name: "weather", arguments: {} } }] }), msg("tool", "sunny", { tool_name: "weather" })],
      [
        { type: "user", text: "Weather?" },
        { type: "model", response: [{ type: "functionCall", name: "weather", params: {}, result: "sunny" }] },
      ],
    ],
    [
      "results match calls by tool_name, else in order; JSON results are passed parsed",
      [
        msg("user", "Plan"),
        msg("assistant", "Checking.", {
          tool_calls: [
            { function: { name: "weather", arguments: { city: "Oslo" } } },
            { function: { name: "time", arguments: {} } },
            { function: { name: "weather", arguments: { city: "Rome" } } },
          ],
        }),
        msg("tool", "12:00", { tool_name: "time" }),
        msg("tool", '{"temp": 3}'),
        msg("tool", "[not json"),
      ],
      [
        { type: "user", text: "Plan" },
        {
          type: "model",
          response: [
            "Checking.",
            { type: "functionCall", name: "weather", params: { city: "Oslo" }, result: { temp: 3 } },
            { type: "functionCall", name: "time", params: {}, result: "12:00" },
            { type: "functionCall", name: "weather", params: { city: "Rome" }, result: "[not json" },
          ],
        },
      ],
    ],
    [
      "a tool result naming no call stays a user-side turn; a call without a result has none",
      [
        msg("user", "Weather?"),
        msg("assistant", "", { tool_calls: [{ function: { name: "weather", arguments: {} } }, { function: { name: "news", arguments: {} } }] }),
        msg("tool", "sunny", { tool_name: "weather" }),
        msg("tool", "42", { tool_name: "calculator" }),
      ],
      [
        { type: "user", text: "Weather?" },
        {
          type: "model",
          response: [
            { type: "functionCall", name: "weather", params: {}, result: "sunny" },
            { type: "functionCall", name: "news", params: {}, result: undefined },
          ],
        },
        { type: "user", text: "42" },
      ],
    ],
    [
      "a tool message with no assistant call before it is a user-side turn",
      [msg("user", "Hi"), msg("tool", "result")],
      [
        { type: "user", text: "Hi" },
        { type: "user", text: "result" },
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

  // What the model actually reads: the wrapper's rendering of the history.
  const toolTurn = toChatHistory([
    msg("user", "Weather in Oslo?"),
    msg("assistant", "", { tool_calls: [{ function: { name: "get_weather", arguments: { city: "Oslo" } } }] }),
    msg("tool", "light snow, -3 C", { tool_name: "get_weather" }),
  ]);

  it("renders the call and its result in ChatML's syntax, the answer continuing after the result", () => {
    const text = new ChatMLChatWrapper().generateContextState({ chatHistory: toolTurn }).contextText.toString();
    expect(text).toContain('||call: get_weather({"city": "Oslo"})');
    expect(text).toContain('||result: "light snow, -3 C"');
    expect(text.trimEnd().endsWith('"light snow, -3 C"')).toBe(true);
  });

  it("renders the call and its result with the plain wrapper", () => {
    const text = new PlainChatWrapper().generateContextState({ chatHistory: toolTurn }).contextText.toString();
    expect(text).toContain("user: Weather in Oslo?\nassistant: ||call: get_weather");
    expect(text).toContain("light snow, -3 C");
  });
});
