import { describe, expect, it } from "vitest";
import { describeZodError } from "./errors.ts";
import { CancelMessage, CommandReply, isTerminalEvent, JobEvent, JobInput, JobMessage, WIRE_VERSION, WorkerCommand, WorkerState, type ChunkMessage, type DoneMessage, type ErrorMessage } from "./wire.ts";

const chunk: ChunkMessage = {
  v: WIRE_VERSION,
  type: "chunk",
  id: "job-1",
  seq: 0,
  content: "Once upon",
  thinking: "a story",
  tool_calls: [{ id: "call_ab12cd34", function: { index: 0, name: "get_weather", arguments: { city: "Paris" } } }],
  logprobs: [{ token: "Once", logprob: -0.25, bytes: [79, 110, 99, 101], top_logprobs: [{ token: "Once", logprob: -0.25 }] }],
};

const done: DoneMessage = {
  v: WIRE_VERSION,
  type: "done",
  id: "job-1",
  seq: 1,
  done_reason: "stop",
  metrics: { load_duration: 0, prompt_eval_count: 3, prompt_eval_duration: 1_000, eval_count: 2, eval_duration: 2_000 },
  worker_id: "worker-a",
};

const error: ErrorMessage = { v: WIRE_VERSION, type: "error", id: "job-1", seq: 2, code: "engine_error", message: "out of memory" };

const job: JobMessage = {
  v: WIRE_VERSION,
  type: "job",
  kind: "chat",
  id: "job-1",
  model: "stories260k:latest",
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hi", images: ["iVBORw0KGgo="] },
    { role: "assistant", content: "", thinking: "hm", tool_calls: [{ function: { name: "f", arguments: { x: [1, { y: null }] } } }] },
    { role: "tool", content: "42", tool_name: "f" },
  ],
  options: { seed: 1, num_predict: 16, temperature: 0, stop: ["\n"], use_mmap: false, num_ctx: 256 },
  tools: [{ type: "function", function: { name: "f", description: "d", parameters: { type: "object" } } }],
  format: { type: "object" },
  think: "low",
  logprobs: true,
  top_logprobs: 3,
  keep_alive_ms: -1,
  accepted_at: 1_761_499_281_196.249,
};

/** What the other process sees after the message crossed a process boundary. */
const overTheWire = (message: unknown): unknown => JSON.parse(JSON.stringify(message));

describe("JobEvent", () => {
  it.each<[string, JobEvent]>([
    ["chunk", chunk],
    ["minimal chunk", { v: WIRE_VERSION, type: "chunk", id: "j", seq: 0, content: "" }],
    ["done", done],
    ["done on load", { ...done, done_reason: "load" }],
    ["error", error],
  ])("parses a %s unchanged after JSON", (_, event) => {
    expect(JobEvent.parse(overTheWire(event))).toEqual(event);
  });

  it("narrows on type", () => {
    const event = JobEvent.parse(overTheWire(done));
    expect(event.type === "done" && event.metrics.eval_count).toBe(2);
  });

  it.each<[string, unknown, string]>([
    ["another wire version", { ...chunk, v: 2 }, "v: wire version 2; this side speaks 1"],
    ["no wire version", { ...chunk, v: undefined }, "v: wire version undefined; this side speaks 1"],
    ["the version as a string", { ...chunk, v: "1" }, 'v: wire version "1"; this side speaks 1'],
    ["an unknown type", { ...chunk, type: "progress" }, "type: Invalid discriminator value. Expected 'started' | 'chunk' | 'done' | 'error'"],
    ["a job on the event channel", job, "type: Invalid discriminator value. Expected 'started' | 'chunk' | 'done' | 'error'"],
    ["an unknown error code", { ...error, code: "oops" }, expect.stringMatching(/^code: /) as unknown as string],
    ["an unknown done reason", { ...done, done_reason: "eos" }, expect.stringMatching(/^done_reason: /) as unknown as string],
    ["a fractional metric", { ...done, metrics: { ...done.metrics, eval_duration: 1.5 } }, expect.stringMatching(/^metrics\.eval_duration: /) as unknown as string],
    ["a chunk without content", { ...chunk, content: undefined }, expect.stringMatching(/^content: /) as unknown as string],
  ])("rejects %s", (_, message, description) => {
    const result = JobEvent.safeParse(message);
    expect(result.success).toBe(false);
    expect(describeZodError(result.error!)).toEqual(description);
  });

  it.each([[null], ["chunk"], [[]], [undefined]])("rejects %j", (message) => {
    expect(JobEvent.safeParse(message).success).toBe(false);
  });
});

describe("JobMessage", () => {
  it("round-trips through JSON.stringify/parse unchanged", () => {
    const received = JobMessage.parse(overTheWire(job));
    expect(received).toEqual(job);
    // and again: parsing what was parsed changes nothing (no default or transform drifts)
    expect(JobMessage.parse(overTheWire(received))).toEqual(job);
    // byte for byte once in the schema's key order
    expect(JSON.stringify(JobMessage.parse(overTheWire(received)))).toBe(JSON.stringify(received));
  });

  it.each<[string, JobMessage]>([
    ["chat", { v: WIRE_VERSION, type: "job", kind: "chat", id: "j", model: "m:latest", messages: [{ role: "user", content: "Hi" }], options: {}, accepted_at: 0 }],
    ["completion", { v: WIRE_VERSION, type: "job", kind: "completion", id: "j", model: "m:latest", prompt: "def f(", suffix: "return 1", options: {}, accepted_at: 0 }],
    ["embed", { v: WIRE_VERSION, type: "job", kind: "embed", id: "j", model: "m:latest", input: ["a", "b"], truncate: true, normalize: false, options: {}, accepted_at: 0 }],
  ])("round-trips a minimal %s job", (_, minimal) => {
    expect(JobMessage.parse(overTheWire(minimal))).toEqual(minimal);
  });

  it("keeps only the fields of the job's kind", () => {
    const completion = { v: WIRE_VERSION, type: "job", kind: "completion", id: "j", model: "m:latest", prompt: "Once", messages: [], tools: [], options: {}, accepted_at: 0 };
    expect(JobMessage.parse(completion)).not.toHaveProperty("messages");
    expect(JobMessage.parse(completion)).not.toHaveProperty("tools");
  });

  it.each<[string, unknown, string]>([
    ["a chat without messages", { ...job, messages: [] }, "messages: a chat job needs at least one message"],
    ["a completion without a prompt", { ...job, kind: "completion", prompt: "" }, "prompt: a completion job needs a prompt"],
    ["an embedding without input", { ...job, kind: "embed", input: [], truncate: true, normalize: true }, "input: an embed job needs at least one input"],
    ["a job without a kind", { ...job, kind: undefined }, expect.stringMatching(/^kind: /) as unknown as string],
  ])("rejects %s, as JobInput does", (_, message, description) => {
    const result = JobMessage.safeParse(message);
    expect(result.success).toBe(false);
    expect(describeZodError(result.error!)).toEqual(description);
    if (typeof description === "string") expect(describeZodError(JobInput.safeParse(message).error!)).toEqual(description);
  });

  it("rejects another wire version and a missing options object", () => {
    expect(JobMessage.safeParse({ ...job, v: 2 }).success).toBe(false);
    expect(JobMessage.safeParse({ ...job, options: undefined }).success).toBe(false);
  });
});

describe("CancelMessage and WorkerState", () => {
  it("round-trip through JSON", () => {
    const cancel: CancelMessage = { v: WIRE_VERSION, type: "cancel", id: "job-1", reason: "client disconnected" };
    expect(CancelMessage.parse(overTheWire(cancel))).toEqual(cancel);
    const state: WorkerState = {
      v: WIRE_VERSION,
      worker_id: "worker-a",
      models: [
        {
          name: "stories260k:latest",
          model: "stories260k:latest",
          modified_at: "2025-10-26T17:21:21.196249Z",
          size: 1_185_376,
          capabilities: ["completion", "embedding"],
          digest: "0".repeat(64),
          details: { parent_model: "", format: "gguf", family: "llama", families: null, parameter_size: "292.80K", quantization_level: "F32" },
        },
      ],
      num_parallel: 2,
      busy: 1,
      started_at: 1_761_499_281_196,
      draining: false,
      loaded: [
        {
          model: "stories260k:latest",
          loading: false,
          size_bytes: 270_000_000,
          context_length: 2048,
          busy: 1,
          slots: 2,
          keep_alive_ms: 300_000,
          expires_at: null,
          last_used_at: 1_761_499_281_196,
        },
      ],
      max_loaded_models: 3,
      memory_budget_bytes: 8_000_000_000,
      memory_used_bytes: 270_000_000,
      engine: "llama",
      gpu: false,
    };
    expect(WorkerState.parse(overTheWire(state))).toEqual(state);
  });

  it("StartedMessage, WorkerCommand and CommandReply round-trip through JSON", () => {
    const started: JobEvent = { v: WIRE_VERSION, type: "started", id: "job-1", seq: 0, worker_id: "w1" };
    expect(JobEvent.parse(overTheWire(started))).toEqual(started);
    expect(isTerminalEvent(started)).toBe(false);
    const load: WorkerCommand = { v: WIRE_VERSION, type: "load", id: "c1", model: "m:latest", keep_alive_ms: -1, options: { num_ctx: 512 } };
    expect(WorkerCommand.parse(overTheWire(load))).toEqual(load);
    const reply: CommandReply = { v: WIRE_VERSION, type: "reply", id: "c1", worker_id: "w1", ok: false, code: "no_room", message: "busy" };
    expect(CommandReply.parse(overTheWire(reply))).toEqual(reply);
    expect(WorkerCommand.safeParse({ ...load, type: "explode" }).success).toBe(false);
  });

  it("WorkerState rejects another wire version", () => {
    expect(WorkerState.safeParse({ v: 0, worker_id: "w", models: [], num_parallel: 1, busy: 0, started_at: 0 }).success).toBe(false);
  });
});
