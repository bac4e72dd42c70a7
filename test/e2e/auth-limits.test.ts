import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_BIN, serverCommand } from "@caravan/cli";
import { startRedisCluster, startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { ROOT, type CaravanProcess } from "../harness/processes.ts";
import { promValue } from "../harness/otlp.ts";
import { pollUntil } from "../harness/scenario.ts";

/**
 * API keys, per-key limits and fair share end to end: real processes, the real tiny model, the
 * official `ollama` and `openai` clients and curl. Keys must never appear in any process's log.
 */
const run = promisify(execFile);
const MODEL = "stories260K";
const KEY_A = "alpha-key-5f1c9e0b7d";
const KEY_B = "bravo-key-93ad04e6c1";
const WRONG = "wrong-key-0000000000";

async function curl(url: string, key?: string): Promise<{ status: number; body: string; headers: string }> {
  const args = ["-s", "-D", "-", "-X", "POST", url + "/api/generate", "-H", "content-type: application/json", "-d", JSON.stringify({ model: MODEL, prompt: "Once", stream: false, options: { num_predict: 4 } })];
  if (key) args.push("-H", `Authorization: Bearer ${key}`);
  const { stdout } = await run("curl", args);
  const [headers, body] = stdout.split(/\r?\n\r?\n/, 2) as [string, string];
  return { status: Number(/^HTTP\/[\d.]+ (\d+)/.exec(headers)?.[1]), headers, body };
}

function expectNoKeysIn(processes: CaravanProcess[], keys: string[]): void {
  const text = processes.map((p) => JSON.stringify(p.logs) + p.stderr()).join("\n");
  expect(text.length).toBeGreaterThan(0);
  for (const key of keys) expect(text).not.toContain(key);
}

describe("one process with CARAVAN_API_KEYS", () => {
  let deployment: Deployment;
  let url: string;
  beforeAll(async () => {
    deployment = await startSingleProcess({ CARAVAN_API_KEYS: `${KEY_A},${KEY_B}`, CARAVAN_NUM_PARALLEL: "1" });
    url = deployment.gatewayUrls[0]!;
  });
  afterAll(async () => deployment?.stop());

  it("ollama-js: headers carry the key; none or a wrong one is a 401", async () => {
    const good = new Ollama({ host: url, headers: { Authorization: `Bearer ${KEY_A}` } });
    const answer = await good.generate({ model: MODEL, prompt: "Once", options: { num_predict: 4 } });
    expect(answer.done).toBe(true);
    for (const client of [new Ollama({ host: url }), new Ollama({ host: url, headers: { Authorization: `Bearer ${WRONG}` } })]) {
      await expect(client.generate({ model: MODEL, prompt: "Once" })).rejects.toMatchObject({ status_code: 401 });
      await expect(client.list()).rejects.toMatchObject({ status_code: 401 });
    }
  });

  it("openai: apiKey; a wrong one is an AuthenticationError with code invalid_api_key", async () => {
    const good = new OpenAI({ baseURL: `${url}/v1`, apiKey: KEY_B });
    const completion = await good.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }], max_tokens: 4 });
    expect(completion.choices[0]?.message.role).toBe("assistant");
    const bad = new OpenAI({ baseURL: `${url}/v1`, apiKey: WRONG, maxRetries: 0 });
    await expect(bad.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({
      status: 401,
      code: "invalid_api_key",
      type: "invalid_request_error",
    });
  });

  it("curl: no key and a wrong key are 401 with WWW-Authenticate; a good key is served; / stays open", async () => {
    for (const key of [undefined, WRONG]) {
      const res = await curl(url, key);
      expect(res.status).toBe(401);
      expect(res.headers).toMatch(/www-authenticate: Bearer/i);
      expect(JSON.parse(res.body)).toEqual({ error: expect.stringMatching(/API key/) });
    }
    expect((await curl(url, KEY_A)).status).toBe(200);
    expect((await fetch(url)).status).toBe(200);
  });

  it("fair share: one request of key B is not served behind eight of key A", async () => {
    const order: string[] = [];
    const generate = (key: string, name: string) =>
      fetch(`${url}/api/generate`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: MODEL, prompt: "Once upon a time", stream: false, options: { num_predict: 160, temperature: 0, seed: 1 } }),
      }).then(async (res) => {
        expect(res.status).toBe(200);
        await res.json();
        order.push(name);
      });
    const a = Array.from({ length: 8 }, (_, i) => generate(KEY_A, `A${i}`));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const b = generate(KEY_B, "B");
    await Promise.all([...a, b]);
    // num_parallel 1: B ranks with A's first queued job, so at most ~2 of A's finish first
    expect(order.indexOf("B")).toBeLessThanOrEqual(3);
  });

  it("never logs a key", () => expectNoKeysIn(deployment.workers, [KEY_A, KEY_B, WRONG]));
});

describe("a Redis cluster: keys managed at run time, limits counted in Redis", () => {
  let deployment: Awaited<ReturnType<typeof startRedisCluster>>;
  let url: string;
  const prefix = `test-${process.pid}`;
  const cli = async (...args: string[]) =>
    run(process.execPath, [path.join(ROOT, CLI_BIN), "keys", ...args], { env: { ...process.env, REDIS_URL: deployment.redis.url, CARAVAN_REDIS_PREFIX: prefix } });
  const LIMITED = { conc: "concurrency-key-000001", rpm: "rpm-limited-key-000001", tpm: "tpm-limited-key-000001", counted: "counted-tokens-key-0001" };
  const post = (key: string, body: Record<string, unknown>) =>
    fetch(`${url}/api/generate`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model: MODEL, prompt: "Once", ...body }) });

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "caravan-keys-"));
    const file = path.join(dir, "keys");
    writeFileSync(file, `# test keys\n${LIMITED.conc} conc max_concurrent=1\n${LIMITED.rpm} rpm rpm=2\n${LIMITED.tpm} tpm tpm=10\n${LIMITED.counted} counted\n`);
    deployment = await startRedisCluster({ gateways: 1, workers: 1, env: { CARAVAN_API_KEYS_FILE: file, CARAVAN_NUM_PARALLEL: "2" } });
    url = deployment.gatewayUrls[0]!;
  });
  afterAll(async () => deployment?.stop());

  it("caravan keys create / list / revoke: a revoked key is refused at once", async () => {
    const { stdout: created } = await cli("create", "--name", "carol", "--rpm", "100");
    const key = created.trim();
    expect(key).toMatch(/^cvn_/);
    const { stdout: listed } = await cli("list");
    expect(listed).toMatch(/carol/);
    expect(listed).toMatch(/rpm=100/);
    expect(listed).not.toContain(key);
    expect((await post(key, { stream: false, options: { num_predict: 2 } })).status).toBe(200);
    const id = /^(\S+)\s+carol/m.exec(listed)![1]!;
    await cli("revoke", id);
    const res = await post(key, { stream: false });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "API key revoked" });
    expectNoKeysIn([...deployment.workers], [key]);
  });

  it("max_concurrent: a second request while one runs is a 429 with Retry-After", async () => {
    const first = await post(LIMITED.conc, { stream: true, options: { num_predict: 400 } });
    expect(first.status).toBe(200);
    const second = await post(LIMITED.conc, { stream: false });
    expect(second.status).toBe(429);
    expect(Number(second.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await second.json()) as { error: string }).error).toMatch(/concurrent/);
    await first.text();
  });

  it("requests per minute: the third within a minute is a 429 with Retry-After", async () => {
    for (let i = 0; i < 2; i++) expect((await post(LIMITED.rpm, { stream: false, options: { num_predict: 1 } })).status).toBe(200);
    const third = await post(LIMITED.rpm, { stream: false });
    expect(third.status).toBe(429);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await third.json()) as { error: string }).error).toMatch(/requests per minute/);
  });

  it("tokens per minute: once a request used them up, the next is a 429 with Retry-After", async () => {
    expect((await post(LIMITED.tpm, { stream: false, options: { num_predict: 20 } })).status).toBe(200);
    // charged when the request ended: give the charge a moment to land
    await new Promise((resolve) => setTimeout(resolve, 100));
    const next = await post(LIMITED.tpm, { stream: false });
    expect(next.status).toBe(429);
    expect(Number(next.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await next.json()) as { error: string }).error).toMatch(/tokens per minute/);
  });

  it("charges a key every prompt token, also those a cached prefix served", async () => {
    const answers: { prompt_eval_count: number; prompt_cached_count: number }[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await post(LIMITED.counted, { prompt: "The little bird sang a song", stream: false, options: { temperature: 0, num_predict: 1 } });
      expect(res.status).toBe(200);
      answers.push((await res.json()) as (typeof answers)[number]);
    }
    expect(answers[1]!.prompt_cached_count).toBeGreaterThan(0); // the same prompt again, on the sequence that held it
    expect(answers[1]!.prompt_eval_count).toBe(answers[0]!.prompt_eval_count);
    const charged = () =>
      fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${LIMITED.counted}` } })
        .then((r) => r.text())
        .then((text) => promValue(text, "caravan_key_tokens_total", { caravan_key_id: "counted", gen_ai_token_type: "input" }));
    // charged when each request ended, which may trail its answer by a moment
    const input = await pollUntil(charged, (n) => n >= 2 * answers[0]!.prompt_eval_count, 5000, "both prompts charged");
    expect(input).toBe(2 * answers[0]!.prompt_eval_count);
  });

  it("counts usage per key id in /metrics (never the key)", async () => {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${LIMITED.rpm}` } });
    const text = await res.text();
    expect(text).toMatch(/caravan_key_requests_total\{[^}]*caravan_key_id="rpm"/);
    expect(text).toMatch(/caravan_key_tokens[^{]*\{[^}]*caravan_key_id="tpm"/);
    expect(text).not.toContain(LIMITED.rpm);
  });
});

describe("listening beyond loopback", () => {
  it("refuses to start without keys (exit 2 naming CARAVAN_ALLOW_OPEN)", async () => {
    const { command, args, cwd } = serverCommand("serve");
    const result = await run(command, args, {
      cwd,
      env: { ...process.env, CARAVAN_HOST: "0.0.0.0:0", REDIS_URL: "", CARAVAN_API_KEYS: "", CARAVAN_MODELS: path.join(ROOT, "../shared/models") },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/CARAVAN_ALLOW_OPEN/);
  });
});
