import { describe, expect, it } from "vitest";
import { describeZodError } from "../errors.ts";
import { ChatRequest, ChatResponse, ChatMessage, Role } from "./chat.ts";

/** The one-line message a client would get for `body`, or "ok" when it parses. */
function problem(body: unknown): string {
  const result = ChatRequest.safeParse(body);
  return result.success ? "ok" : describeZodError(result.error);
}

const weatherTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

/** Every field of the contract's /api/chat request, each with a legal value. */
const fullRequest = {
  model: "stories260K:latest",
  messages: [
    { role: "system", content: "You are terse." },
    { role: "user", content: "What is in this picture?", images: ["iVBORw0KGgo="] },
    {
      role: "assistant",
      content: "",
      thinking: "The user wants the weather.",
      tool_calls: [{ id: "call_ab12cd34", function: { index: 0, name: "get_weather", arguments: { city: "Paris" } } }],
    },
    { role: "tool", content: "18°C", tool_name: "get_weather" },
  ],
  tools: [weatherTool],
  format: "json",
  options: {
    seed: 42,
    num_predict: 128,
    top_k: 40,
    top_p: 0.9,
    min_p: 0.05,
    typical_p: 1,
    repeat_last_n: 64,
    temperature: 0.8,
    repeat_penalty: 1.1,
    presence_penalty: 0.5,
    frequency_penalty: 0.25,
    stop: ["\n\n", "User:"],
    num_keep: 4,
    num_ctx: 2048,
    num_batch: 512,
    num_gpu: 99,
    main_gpu: 0,
    use_mmap: true,
    num_thread: 8,
  },
  stream: false,
  keep_alive: 300,
  think: true,
  logprobs: true,
  top_logprobs: 5,
};

describe("ChatRequest: valid requests", () => {
  it("parses a request with every field of the contract, unchanged", () => {
    expect(ChatRequest.parse(fullRequest)).toEqual(fullRequest);
  });

  it.each<[string, Record<string, unknown>]>([
    ["format as a JSON schema", { format: { type: "object", properties: { age: { type: "integer" } }, required: ["age"] } }],
    ['format ""', { format: "" }],
    ["keep_alive as a duration string", { keep_alive: "5m" }],
    ["keep_alive as a fractional number", { keep_alive: 1.5 }],
    ["keep_alive negative", { keep_alive: -1 }],
    ['think "high"', { think: "high" }],
    ['think "medium"', { think: "medium" }],
    ['think "low"', { think: "low" }],
    ["think false", { think: false }],
    ["top_logprobs 0", { top_logprobs: 0 }],
    ["top_logprobs 20", { top_logprobs: 20 }],
    ["num_predict -1 (no limit)", { options: { num_predict: -1 } }],
    ["empty options", { options: {} }],
    ["empty messages (load)", { messages: [], keep_alive: 0 }],
  ])("accepts %s", (_, fields) => {
    const body = { ...fullRequest, ...fields };
    expect(ChatRequest.parse(body)).toEqual(body);
  });

  it("fills Ollama's defaults", () => {
    expect(ChatRequest.parse({ model: "m" })).toEqual({ model: "m", messages: [], stream: true });
    const parsed = ChatRequest.parse({ model: "m", messages: [{ role: "assistant", tool_calls: [] }] });
    expect(parsed.messages[0]).toEqual({ role: "assistant", content: "", tool_calls: [] });
    expect(ChatRequest.parse({ model: "m", tools: [{ function: { name: "f" } }] }).tools).toEqual([{ type: "function", function: { name: "f" } }]);
  });

  it("reads a JSON null as an absent field, as Go's decoder does", () => {
    const parsed = ChatRequest.parse({
      model: "m",
      messages: [{ role: "user", content: null, images: null, tool_calls: null, tool_name: null, thinking: null }],
      tools: null,
      format: null,
      options: { temperature: null, stop: null, seed: 1 },
      stream: null,
      keep_alive: null,
      think: null,
      logprobs: null,
      top_logprobs: null,
    });
    expect(parsed).toEqual({ model: "m", messages: [{ role: "user", content: "" }], options: { seed: 1 }, stream: true });
    expect(ChatRequest.parse({ model: "m", messages: null }).messages).toEqual([]);
  });

  it("drops unknown top-level fields", () => {
    expect(ChatRequest.parse({ model: "m", stream: false, surprise: 1 })).toEqual({ model: "m", messages: [], stream: false });
  });

  it.each([
    ["USER", "user"],
    ["User", "user"],
    ["SYSTEM", "system"],
    ["Assistant", "assistant"],
    ["TOOL", "tool"],
    ["user", "user"],
  ])("matches role %j as %j", (role, expected) => {
    expect(ChatRequest.parse({ model: "m", messages: [{ role, content: "hi" }] }).messages[0]!.role).toBe(expected);
    expect(Role.parse(role)).toBe(expected);
  });

  it("truncates integer options toward zero, as Go's decoder does", () => {
    const options = ChatRequest.parse({ model: "m", options: { num_predict: 3.7, seed: -2.5, num_ctx: 2048.9, top_k: 40 } }).options;
    expect(options).toEqual({ num_predict: 3, seed: -2, num_ctx: 2048, top_k: 40 });
  });

  it("keeps float options as they are", () => {
    expect(ChatRequest.parse({ model: "m", options: { temperature: 0.7, top_p: 1 } }).options).toEqual({ temperature: 0.7, top_p: 1 });
  });

  it("takes stop as a lone string", () => {
    expect(ChatRequest.parse({ model: "m", options: { stop: "\n" } }).options?.stop).toEqual(["\n"]);
    expect(ChatRequest.parse({ model: "m", options: { stop: [] } }).options?.stop).toEqual([]);
  });
});

describe("ChatRequest: tool_choice", () => {
  const choice = (tool_choice: unknown) => ChatRequest.parse({ model: "m", tools: [weatherTool], tool_choice }).tool_choice;

  it("takes a named tool in the nested shape, and in the flat one the AI SDK's Ollama provider sends", () => {
    const named = { type: "function", function: { name: "get_weather" } };
    expect(choice(named)).toEqual(named);
    expect(choice({ function: { name: "get_weather" } })).toEqual(named);
    expect(choice({ type: "function", name: "get_weather" })).toEqual(named);
    expect(choice("required")).toBe("required");
  });
});

describe("ChatRequest: rejected requests name the problem", () => {
  it.each<[string, unknown, string]>([
    // the contract's exact strings
    ["missing model", { messages: [] }, "model is required"],
    ["empty model", { model: "" }, "model is required"],
    ["null model", { model: null }, "model is required"],
    ["top_logprobs above 20", { model: "m", top_logprobs: 21 }, "top_logprobs must be between 0 and 20"],
    ["top_logprobs below 0", { model: "m", top_logprobs: -1 }, "top_logprobs must be between 0 and 20"],
    // field, then what is wrong
    ["model not a string", { model: 7 }, "model must be a string"],
    ["messages not an array", { model: "m", messages: "hello" }, "messages must be an array"],
    ["messages an object", { model: "m", messages: { role: "user" } }, "messages must be an array"],
    ["a message not an object", { model: "m", messages: ["hello"] }, "messages[0] must be an object"],
    ["unknown role", { model: "m", messages: [{ role: "bot", content: "hi" }] }, 'messages[0].role: unknown role "bot"; use system, user, assistant or tool'],
    ["unknown role, second message", { model: "m", messages: [{ role: "user" }, { role: "Narrator" }] }, 'messages[1].role: unknown role "Narrator"; use system, user, assistant or tool'],
    ["missing role", { model: "m", messages: [{ content: "hi" }] }, "messages[0].role is required"],
    ["role not a string", { model: "m", messages: [{ role: 1 }] }, "messages[0].role must be a string"],
    ["content not a string", { model: "m", messages: [{ role: "user", content: ["hi"] }] }, "messages[0].content must be a string"],
    ["images not an array", { model: "m", messages: [{ role: "user", images: "iVBOR" }] }, "messages[0].images must be an array"],
    ["an image not a string", { model: "m", messages: [{ role: "user", images: [1] }] }, "messages[0].images[0] must be a string"],
    [
      "tool call arguments as a JSON string",
      { model: "m", messages: [{ role: "assistant", tool_calls: [{ function: { name: "f", arguments: '{"a":1}' } }] }] },
      "messages[0].tool_calls[0].function.arguments must be an object",
    ],
    ["temperature not a number", { model: "m", options: { temperature: "hot" } }, "options.temperature must be a number"],
    ["seed as a string", { model: "m", options: { seed: "42" } }, "options.seed must be a number"],
    ["use_mmap not a boolean", { model: "m", options: { use_mmap: "yes" } }, "options.use_mmap must be a boolean"],
    ["stop a number", { model: "m", options: { stop: 5 } }, "options.stop must be a string or an array of strings"],
    ["stop with a number inside", { model: "m", options: { stop: ["a", 5] } }, "options.stop must be a string or an array of strings"],
    ["options not an object", { model: "m", options: "fast" }, "options must be an object"],
    ["options an array", { model: "m", options: [1] }, "options must be an object"],
    ["top_logprobs fractional", { model: "m", top_logprobs: 2.5 }, "top_logprobs must be an integer"],
    ["top_logprobs a string", { model: "m", top_logprobs: "5" }, "top_logprobs must be a number"],
    ["stream a string", { model: "m", stream: "false" }, "stream must be a boolean"],
    ["logprobs a number", { model: "m", logprobs: 1 }, "logprobs must be a boolean"],
    ["think an unknown level", { model: "m", think: "max" }, 'think must be true, false, "high", "medium" or "low"'],
    ["think a number", { model: "m", think: 1 }, 'think must be true, false, "high", "medium" or "low"'],
    ["format an unknown word", { model: "m", format: "xml" }, 'format must be "json" or a JSON schema object'],
    ["format an array", { model: "m", format: ["json"] }, 'format must be "json" or a JSON schema object'],
    ["keep_alive a boolean", { model: "m", keep_alive: true }, 'keep_alive must be a number of seconds or a duration such as "5m"'],
    ["tools not an array", { model: "m", tools: weatherTool }, "tools must be an array"],
    ["tool of another type", { model: "m", tools: [{ ...weatherTool, type: "retrieval" }] }, 'tools[0].type must be "function"'],
    ["tool without a name", { model: "m", tools: [{ function: {} }] }, "tools[0].function.name is required"],
    [
      "tool_choice an unknown word",
      { model: "m", tool_choice: "any" },
      'tool_choice must be "auto", "none", "required", {"type":"function","function":{"name":...}} or {"type":"function","name":...}',
    ],
    ["body a string", "hello", "request body must be a JSON object"],
    ["body null", null, "request body must be a JSON object"],
    ["body an array", [], "request body must be a JSON object"],
  ])("%s", (_, body, message) => {
    expect(problem(body)).toBe(message);
  });

  it("reports the first problem when there are several", () => {
    expect(problem({ messages: "x", stream: "y" })).toBe("model is required");
  });
});

describe("ChatMessage", () => {
  it("gives a missing content as empty", () => {
    expect(ChatMessage.parse({ role: "assistant" })).toEqual({ role: "assistant", content: "" });
  });
});

describe("ChatResponse", () => {
  it("parses a final chunk with metrics", () => {
    const chunk = {
      model: "stories260k:latest",
      created_at: "2025-10-26T17:21:21.196249Z",
      message: { role: "assistant", content: "" },
      done: true,
      done_reason: "stop",
      total_duration: 1_000_000,
      load_duration: 0,
      prompt_eval_count: 3,
      prompt_eval_duration: 10_000,
      eval_count: 5,
      eval_duration: 50_000,
    };
    expect(ChatResponse.parse(chunk)).toEqual(chunk);
  });

  it("rejects a message from another role and a fractional duration", () => {
    const base = { model: "m", created_at: "x", message: { role: "assistant", content: "" }, done: false };
    expect(ChatResponse.safeParse({ ...base, message: { role: "user", content: "" } }).success).toBe(false);
    expect(ChatResponse.safeParse({ ...base, done: true, eval_duration: 1.5 }).success).toBe(false);
  });
});
