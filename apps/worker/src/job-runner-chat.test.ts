import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { JobMessage, WIRE_VERSION, type ChatJob, type ChunkMessage } from "@caravan/protocol";
import type { EventBody } from "@caravan/transport";
import { scanModels, type CatalogEntry } from "./catalog/catalog.ts";
import { STORIES_260K, TEST_MODELS_DIR } from "./catalog/test-models.ts";
import { copyGgufWithChatTemplate, THINKING_CHAT_TEMPLATE } from "./engine/test-gguf.ts";
import { LlamaEngine, type LoadedModel } from "./engine/index.ts";
import { runJob } from "./job-runner.ts";
import type { Residency } from "./residency/index.ts";
import { engineResidency } from "./testing/engines.ts";

// The chat path of runJob on the real engine and tiny model: what the chunk events carry.
let engine: LlamaEngine;
let residency: Residency<LoadedModel>;
let entries: CatalogEntry[];
let thinkDir = "";

beforeAll(async () => {
  const thinkCopy = await copyGgufWithChatTemplate(STORIES_260K, THINKING_CHAT_TEMPLATE, "stories260K-think.gguf");
  thinkDir = dirname(thinkCopy);
  entries = [...(await scanModels(TEST_MODELS_DIR)), ...(await scanModels(thinkDir))];
  engine = await LlamaEngine.create({ threads: 1, numParallel: 1, gpu: false, defaultNumCtx: 2048 });
  // keep_alive forever: no idle timers outlive the file; engine.close() unloads everything.
  residency = engineResidency(engine, entries);
});
afterAll(async () => {
  await engine?.close();
  await rm(thinkDir, { recursive: true, force: true });
});

async function runChat(fields: Partial<ChatJob>): Promise<EventBody[]> {
  const job = JobMessage.parse({
    v: WIRE_VERSION,
    type: "job",
    kind: "chat",
    id: "job-1",
    model: "stories260k-chatml:latest",
    messages: [{ role: "user", content: "What is the weather in Oslo?" }],
    options: { temperature: 0.8, seed: 3, num_predict: 100 },
    accepted_at: Date.now(),
    ...fields,
  });
  const events: EventBody[] = [];
  await runJob(job, { signal: new AbortController().signal, emit: async (event) => void events.push(event) }, {
    residency,
    catalog: () => entries,
    workerId: "w1",
    log: pino({ level: "silent" }),
  });
  return events;
}

type Chunk = Omit<ChunkMessage, "v" | "id" | "seq">;
const chunks = (events: EventBody[]) => events.filter((e): e is Chunk => e.type === "chunk");

/** Each chunk's logprob tokens join to its text (content or thinking), and their bytes are its bytes. */
function expectChunkLogprobsJoinToTheirText(sent: Chunk[]): void {
  for (const chunk of sent) {
    const text = chunk.content + (chunk.thinking ?? "");
    const entries = chunk.logprobs ?? [];
    expect(entries.map((e) => e.token).join(""), JSON.stringify(chunk)).toBe(text);
    expect(entries.flatMap((e) => e.bytes ?? [])).toEqual([...Buffer.from(text, "utf8")]);
  }
}

describe("runJob (chat)", () => {
  it("sends a forced tool call whole in one chunk, with no logprobs for its syntax", async () => {
    const events = await runChat({
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }],
      tool_choice: "required",
      logprobs: true,
      top_logprobs: 2,
    });
    const done = events.at(-1)!;
    expect(done).toMatchObject({ type: "done", done_reason: "stop" });
    const sent = chunks(events);
    const withCalls = sent.filter((c) => c.tool_calls);
    expect(withCalls).toHaveLength(1);
    expect(withCalls[0]!.content).toBe("");
    expect(withCalls[0]!.tool_calls).toEqual([{ id: expect.stringMatching(/^call_[a-z0-9]{8}$/), function: { index: 0, name: "get_weather", arguments: { city: expect.any(String) } } }]);
    expectChunkLogprobsJoinToTheirText(sent);
    for (const entry of sent.flatMap((c) => c.logprobs ?? [])) expect(entry.top_logprobs!.length).toBeLessThanOrEqual(2);
  });

  it.each(Array.from({ length: 12 }, (_, i) => i + 1))("sends each chunk's logprobs with exactly its text, with a stop sequence (seed %i)", async (seed) => {
    const stop = [["he"], ["a"], ["."], [", "]][seed % 4];
    const events = await runChat({ model: "stories260k:latest", messages: [{ role: "user", content: "Once upon a time" }], options: { temperature: 1, seed, num_predict: 64, stop }, logprobs: true, top_logprobs: 1 });
    expect(events.at(-1)).toMatchObject({ type: "done" });
    const sent = chunks(events);
    expectChunkLogprobsJoinToTheirText(sent);
    expect(sent.flatMap((c) => c.logprobs ?? []).length).toBeGreaterThan(0);
  });

  it("sends a thought's logprobs in the thought's chunks", async () => {
    const events = await runChat({ model: "stories260k-think:latest", think: true, options: { temperature: 0, num_predict: 16 }, logprobs: true });
    const sent = chunks(events);
    expectChunkLogprobsJoinToTheirText(sent);
    expect(sent.map((c) => c.thinking ?? "").join("").length).toBeGreaterThan(10);
  });

  it("sends thinking in chunks of its own (content empty); think false sends none", async () => {
    const events = await runChat({ model: "stories260k-think:latest", think: true, options: { temperature: 0, num_predict: 16 } });
    const sent = chunks(events);
    expect(sent.length).toBeGreaterThan(0);
    for (const chunk of sent) expect(chunk.content).toBe("");
    expect(sent.map((c) => c.thinking ?? "").join("").length).toBeGreaterThan(10);
    expect(events.at(-1)).toMatchObject({ type: "done", done_reason: "length" });
    const off = chunks(await runChat({ model: "stories260k-think:latest", think: false, options: { temperature: 0, num_predict: 16 } }));
    expect(off.every((c) => c.thinking === undefined)).toBe(true);
    expect(off.map((c) => c.content).join("").length).toBeGreaterThan(10);
  });

  it("sends a plain answer as content only", async () => {
    const plain = await runChat({ options: { temperature: 0, num_predict: 12 }, logprobs: false });
    const sent = chunks(plain);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((c) => c.thinking === undefined && c.tool_calls === undefined && c.logprobs === undefined)).toBe(true);
    expect(sent.map((c) => c.content).join("").length).toBeGreaterThan(5);
    expect(plain.at(-1)).toMatchObject({ type: "done", done_reason: "length" });
  });

  it("answers think on a model that cannot think with a bad_request error", async () => {
    const events = await runChat({ think: true });
    expect(events.at(-1)).toEqual({ type: "error", code: "bad_request", message: '"stories260k-chatml:latest" does not support thinking' });
  });
});
