import { describe, expect, it } from "vitest";
import { ChatMLChatWrapper, HarmonyChatWrapper, type ChatHistoryItem, type ChatModelFunctions } from "node-llama-cpp";
import { PlainChatWrapper } from "./chat-wrapper.ts";
import { noSwitches, withSwitches } from "./request-chat-wrapper.ts";

const history: ChatHistoryItem[] = [
  { type: "user", text: "Weather?" },
  { type: "model", response: [] },
];
const functions: ChatModelFunctions = { get_weather: { description: "The weather", params: { type: "object", properties: { city: { type: "string" } } } } };

describe("withSwitches", () => {
  it("changes nothing while no switch is set", () => {
    const inner = new ChatMLChatWrapper();
    const wrapper = withSwitches(inner, noSwitches());
    expect(wrapper.generateContextState({ chatHistory: history })).toEqual(inner.generateContextState({ chatHistory: history }));
    expect(wrapper.settings).toBe(inner.settings);
    expect(wrapper.wrapperName).toBe("ChatML");
    expect(wrapper.generateFunctionCall("f", { a: 1 }).toString()).toBe(inner.generateFunctionCall("f", { a: 1 }).toString());
  });

  it("engages a function call from the first token while forcing, and drops prefix triggers", () => {
    const switches = noSwitches();
    const wrapper = withSwitches(new HarmonyChatWrapper(), switches);
    expect(wrapper.generateContextState({ chatHistory: history, availableFunctions: functions }).prefixTriggers?.length).toBeGreaterThan(0);
    switches.forceFunctionCall = true;
    const forced = wrapper.generateContextState({ chatHistory: history, availableFunctions: functions });
    expect(forced.functionCall).toEqual({ initiallyEngaged: true, disengageInitiallyEngaged: [] });
    expect(forced.prefixTriggers).toBeUndefined();
    expect(forced.contextText.toString()).toContain("get_weather");
    switches.forceFunctionCall = false;
    expect(wrapper.generateContextState({ chatHistory: history, availableFunctions: functions }).functionCall).toBeUndefined();
  });

  it("shows functions in the prompt that LlamaChat was not given (format + tools)", () => {
    const switches = noSwitches();
    const wrapper = withSwitches(new PlainChatWrapper(), switches);
    const without = wrapper.generateContextState({ chatHistory: history }).contextText.toString();
    switches.shownFunctions = functions;
    const shown = wrapper.generateContextState({ chatHistory: history }).contextText.toString();
    expect(without).not.toContain("get_weather");
    expect(shown).toContain("get_weather");
    expect(shown).toContain("The weather");
  });
});
