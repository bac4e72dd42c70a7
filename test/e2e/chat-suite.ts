import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Deployment } from "../harness/cluster.ts";
import { ndjsonLines, postJson } from "../harness/ndjson.ts";
import { generationEnded, tokensGenerated } from "../harness/scenario.ts";

export const MODEL = "stories260K";
const CREATED_AT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/;
const greedy = (num_predict: number) => ({ temperature: 0, num_predict });
const METRICS = ["total_duration", "load_duration", "prompt_eval_count", "prompt_eval_duration", "eval_count", "eval_duration"] as const;

async function chatStream(url: string, body: Record<string, unknown>) {
  const response = await postJson(`${url}/api/chat`, { model: MODEL, ...body });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("application/x-ndjson");
  const lines = [];
  for await (const line of ndjsonLines(response)) lines.push(line);
  const content = lines.map((l) => (l.message as { content: string }).content).join("");
  return { lines, content, final: lines.at(-1)! };
}

async function chatOnce(url: string, body: Record<string, unknown>) {
  const response = await postJson(`${url}/api/chat`, { model: MODEL, stream: false, ...body });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("application/json");
  return (await response.json()) as Record<string, unknown> & { message: { content: string } };
}

/** The /api/chat behaviour every transport must show, run against a live deployment. */
export function chatSuite(name: string, start: () => Promise<Deployment>) {
  describe(name, () => {
    let deployment: Deployment;
    let url: string;
    beforeAll(async () => {
      deployment = await start();
      url = deployment.gatewayUrls[0]!;
    });
    afterAll(async () => deployment?.stop());

    it("streams NDJSON chunks and a final object with real metrics", async () => {
      const { lines, content, final } = await chatStream(url, { messages: [{ role: "user", content: "Once upon a time" }], options: greedy(24) });
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines.slice(0, -1)) {
        expect(line).toMatchObject({ model: MODEL, done: false, message: { role: "assistant" } });
        expect(line.created_at).toMatch(CREATED_AT);
      }
      expect(final).toMatchObject({ model: MODEL, done: true, done_reason: "length", eval_count: 24, message: { role: "assistant", content: "" } });
      for (const key of METRICS) expect(Number.isInteger(final[key]), key).toBe(true);
      expect(final.prompt_eval_count as number).toBeGreaterThan(0);
      expect(final.eval_duration as number).toBeGreaterThan(0);
      expect(final.prompt_eval_duration as number).toBeGreaterThan(0);
      // total covers queueing, loading, prompt and generation
      expect(final.total_duration as number).toBeGreaterThanOrEqual((final.eval_duration as number) + (final.prompt_eval_duration as number));
      expect(content.length).toBeGreaterThan(10);
    });

    it("answers stream:false with the same greedy text as the stream", async () => {
      const messages = [{ role: "user", content: "Once upon a time" }];
      const streamed = await chatStream(url, { messages, options: greedy(32) });
      const once = await chatOnce(url, { messages, options: greedy(32) });
      expect(once.message.content).toBe(streamed.content);
      expect(once).toMatchObject({ done: true, done_reason: "length", eval_count: 32 });
      expect(once.created_at).toMatch(CREATED_AT);
    });

    it("counts every prompt token, and reports the share a cached prefix served", async () => {
      const body = { messages: [{ role: "user", content: "The red kite flew over the hill" }], options: greedy(8) };
      const first = await chatOnce(url, body);
      const again = await chatOnce(url, body); // one worker, whose most recently freed sequence holds the prompt
      expect(Number.isInteger(first.prompt_cached_count)).toBe(true);
      expect(again.prompt_eval_count).toBe(first.prompt_eval_count);
      expect(again.prompt_cached_count as number).toBeGreaterThan(first.prompt_cached_count as number);
      expect(again.prompt_cached_count as number).toBeLessThan(again.prompt_eval_count as number);
      expect(again.message.content).toBe(first.message.content);
      const streamed = await chatStream(url, body);
      expect(streamed.final).toMatchObject({ prompt_eval_count: first.prompt_eval_count, prompt_cached_count: again.prompt_cached_count });
    });

    it("passes the whole conversation to the model", async () => {
      const last = { role: "user", content: "The dog ran" };
      const alone = await chatOnce(url, { messages: [last], options: greedy(24) });
      const withHistory = await chatOnce(url, {
        messages: [{ role: "system", content: "Tell a story about Lily." }, { role: "user", content: "Lily had a red ball." }, { role: "assistant", content: "She liked to play with it in the park." }, last],
        options: greedy(24),
      });
      expect(withHistory.prompt_eval_count as number).toBeGreaterThan(alone.prompt_eval_count as number);
      expect(withHistory.message.content).not.toBe(alone.message.content);
    });

    it("runs two requests at once, each with its own answer", async () => {
      const a = { messages: [{ role: "user", content: "Once upon a time" }], options: greedy(48) };
      const b = { messages: [{ role: "user", content: "The little bird" }], options: greedy(48) };
      const [soloA, soloB] = [await chatOnce(url, a), await chatOnce(url, b)];
      const [both1, both2] = await Promise.all([chatOnce(url, a), chatOnce(url, b)]);
      expect(both1.message.content).toBe(soloA.message.content);
      expect(both2.message.content).toBe(soloB.message.content);
    });

    it("stops generation on the worker when the client disconnects", async () => {
      const before = await tokensGenerated(deployment, MODEL);
      const controller = new AbortController();
      const response = await postJson(`${url}/api/chat`, { model: MODEL, messages: [{ role: "user", content: "Once upon a time" }], options: { temperature: 0, num_ctx: 4096 } }, { signal: controller.signal });
      const lines = ndjsonLines(response);
      const first = await lines.next();
      expect(first.value).toMatchObject({ done: false });
      controller.abort();
      // Without the cancel it would run to the 4096-token context: thousands of tokens (a few
      // hundred a second here; a bound in tokens holds on a slow machine as on a fast one).
      expect(await generationEnded(deployment, MODEL, before, 20_000)).toBeLessThan(1000);
      // The sequence is free again: the model still answers.
      const after = await chatOnce(url, { messages: [{ role: "user", content: "Once upon a time" }], options: greedy(8) });
      expect(after.eval_count).toBe(8);
    });

    it("answers 404 for an unknown model and 400 for bad input over real HTTP", async () => {
      const missing = await postJson(`${url}/api/chat`, { model: "no-such-model", messages: [] });
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ error: "model 'no-such-model' not found" });
      const bad = await fetch(`${url}/api/chat`, { method: "POST", body: "{not json" });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toMatch(/invalid JSON/);
    });

    it("serves the probes and lists the models", async () => {
      const root = await fetch(`${url}/`);
      expect(await root.text()).toBe("Ollama is running");
      const head = await fetch(`${url}/`, { method: "HEAD" });
      expect(head.status).toBe(200);
      const version = (await (await fetch(`${url}/api/version`)).json()) as { version: string };
      expect(version.version).toMatch(/^\d+\.\d+\.\d+/);
      const tags = (await (await fetch(`${url}/api/tags`)).json()) as { models: Array<{ name: string; size: number; digest: string }> };
      const names = tags.models.map((m) => m.name);
      expect(names).toContain("stories260k:latest");
      expect(names).toContain("stories260k-chatml:latest");
      const story = tags.models.find((m) => m.name === "stories260k:latest")!;
      expect(story.size).toBe(1185376);
      expect(story.digest).toBe("270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d");
    });

    it("works with the official ollama npm client, streaming and not", async () => {
      const ollama = new Ollama({ host: url });
      const messages = [{ role: "user", content: "Once upon a time" }];
      const once = await ollama.chat({ model: MODEL, messages, stream: false, options: greedy(16) });
      expect(once.done).toBe(true);
      expect(once.eval_count).toBe(16);
      let streamed = "";
      let last;
      for await (const part of await ollama.chat({ model: MODEL, messages, stream: true, options: greedy(16) })) {
        streamed += part.message.content;
        last = part;
      }
      expect(streamed).toBe(once.message.content);
      expect(last?.done_reason).toBe("length");
      // ollama-js types created_at as Date but hands over the JSON string unchanged.
      expect(String(last?.created_at)).toMatch(CREATED_AT);
      const list = await ollama.list();
      expect(list.models.map((m) => m.name)).toContain("stories260k:latest");
    });

    it("enforces a JSON schema given as format", async () => {
      const format = { type: "object", properties: { name: { type: "string", maxLength: 12 }, age: { type: "integer" } }, required: ["name", "age"] };
      const once = await chatOnce(url, { messages: [{ role: "user", content: "Who is Lily?" }], format, options: { seed: 3, num_predict: 200 } });
      const value = JSON.parse(once.message.content) as { name: unknown; age: unknown };
      expect(typeof value.name).toBe("string");
      expect(Number.isInteger(value.age)).toBe(true);
      expect(once.done_reason).toBe("stop");
    });

    it("sends logprobs whose tokens are exactly each chunk's content, with a stop sequence, streamed and not", async () => {
      const body = { messages: [{ role: "user", content: "Once upon a time" }], options: { ...greedy(48), stop: ["he"] }, logprobs: true, top_logprobs: 2 };
      const tokens = (logprobs: unknown) => ((logprobs ?? []) as { token: string }[]).map((l) => l.token).join("");
      const streamed = await chatStream(url, body);
      expect(streamed.final.done_reason).toBe("stop"); // the stop starts inside a token (" the", "she")
      for (const line of streamed.lines) expect(tokens(line.logprobs), JSON.stringify(line)).toBe((line.message as { content: string }).content);
      const once = await chatOnce(url, body);
      expect(once.message.content).toBe(streamed.content);
      expect(tokens(once.logprobs)).toBe(once.message.content);
    });

    it("loads on an empty conversation and unloads with keep_alive 0", async () => {
      const load = await chatOnce(url, { messages: [] });
      expect(load).toMatchObject({ done: true, done_reason: "load", message: { role: "assistant", content: "" } });
      const unload = await chatOnce(url, { messages: [], keep_alive: 0 });
      expect(unload).toMatchObject({ done: true, done_reason: "unload" });
    });
  });
}
