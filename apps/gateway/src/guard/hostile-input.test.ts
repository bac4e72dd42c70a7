import fc from "fast-check";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { InMemoryTransport } from "@caravan/transport";
import { createApp } from "../app.ts";
import { KeyRing } from "../auth/key-ring.ts";
import { StaticKeys } from "../auth/static-keys.ts";
import { Dispatcher } from "../dispatch/dispatcher.ts";
import { KeyGate } from "../limits/key-gate.ts";
import { MemoryLimitStore } from "../limits/memory-limit-store.ts";
import { GatewayTelemetry } from "../telemetry/gateway-telemetry.ts";
import { advertisedModel, enginelessWorkerState } from "../testing/engineless-worker.ts";

/**
 * The HTTP layer against hostile and random input, in process. The "worker" here is a stub
 * handler that answers every job at once (no engine): what is asserted is the gateway's own
 * refusals, and that no input makes it answer 5xx.
 */
const MODEL = "stories260k:latest";
const KEY = "test-key-0123456789";
const transport = new InMemoryTransport();
const now = Date.now();
// A worker that has the model loaded (so jobs are queued for it at once) and no engine: the stub
// command handler below answers loads and unloads.
const state = enginelessWorkerState([advertisedModel(MODEL)], {
  worker_id: "stub",
  num_parallel: 4,
  started_at: now,
  loaded: [{ model: MODEL, loading: false, size_bytes: 1, context_length: 512, busy: 0, slots: 4, keep_alive_ms: -1, expires_at: null, last_used_at: now }],
});
await transport.advertise(state);
await transport.onCommand(async (command) =>
  command.type === "load" || command.type === "unload" ? { ok: true, load_duration: 0 } : { ok: false, code: "model_not_found", message: "stub worker: nothing to do" },
);
await transport.serve(
  MODEL,
  async (job, ctx) => {
    await ctx.emit({ type: "started", worker_id: "stub" });
    if (job.kind !== "embed") await ctx.emit({ type: "chunk", content: "hi" } as never);
    await ctx.emit({
      type: "done",
      worker_id: "stub",
      done_reason: "stop",
      metrics: { load_duration: 0, prompt_eval_count: 3, prompt_eval_duration: 1, eval_count: 1, eval_duration: 1 },
      ...(job.kind === "embed" && { embeddings: (job.input ?? []).map(() => [0.5, 0.5]) }),
    } as never);
  },
  4,
);
const log = pino({ level: "silent" });
const telemetry = GatewayTelemetry.disabled(transport);
const dispatcher = new Dispatcher({
  transport,
  log,
  maxQueue: 64,
  maxQueuePerModel: 64,
  queueTimeoutMs: 2000,
  spillBacklog: 4,
  telemetry,
  keyGate: new KeyGate(new MemoryLimitStore(), { maxConcurrent: 0, rpm: 0, tpm: 0 }, telemetry, log),
  ceilings: { maxNumPredict: 256, maxNumCtx: 4096, maxMessages: 8 },
});
const keys = new KeyRing(new StaticKeys([{ key: KEY, id: "alice" }]));
const app = createApp({
  transport,
  dispatcher,
  log,
  version: "9.9.9",
  telemetry,
  security: { keys, maxBodyBytes: 4096, origins: ["https://*.example.org"], boundHost: "127.0.0.1", allowedHosts: ["caravan.lan"] },
});

const auth = { authorization: `Bearer ${KEY}` };
const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
  app.request(path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });
const chat = (extra: Record<string, unknown> = {}) => ({ model: MODEL, messages: [{ role: "user", content: "hi" }], stream: false, ...extra });

describe("API keys", () => {
  it("refuses a missing, malformed or wrong key with 401 and WWW-Authenticate", async () => {
    for (const headers of [{}, { authorization: KEY }, { authorization: "Bearer wrong-key-000000" }, { authorization: `Basic ${KEY}` }]) {
      const res = await post("/api/chat", chat(), headers as Record<string, string>);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const body = (await res.json()) as { error: string };
      expect(body.error).toMatch(/API key/);
      expect(JSON.stringify(body)).not.toContain(KEY);
    }
  });

  it("answers OpenAI's error shape under /v1", async () => {
    const res = await post("/v1/chat/completions", { model: MODEL, messages: [{ role: "user", content: "hi" }] }, {});
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { message: expect.any(String), type: "invalid_request_error", param: null, code: "invalid_api_key" } });
  });

  it("keeps / and /api/version open, and /metrics and /api/tags closed", async () => {
    expect((await app.request("/")).status).toBe(200);
    expect((await app.request("/", { method: "HEAD" })).status).toBe(200);
    expect((await app.request("/api/version")).status).toBe(200);
    expect((await app.request("/metrics")).status).toBe(401);
    expect((await app.request("/api/tags")).status).toBe(401);
    expect((await app.request("/api/tags", { headers: auth })).status).toBe(200);
  });

  it("serves a good key", async () => {
    const res = await post("/api/chat", chat());
    expect(res.status).toBe(200);
    expect(((await res.json()) as { done: boolean }).done).toBe(true);
  });
});

describe("hostile input", () => {
  const cases: [string, () => Response | Promise<Response>, number, RegExp][] = [
    ["a body over CARAVAN_MAX_BODY_BYTES (Content-Length)", () => post("/api/chat", chat({ pad: "x".repeat(5000) })), 413, /CARAVAN_MAX_BODY_BYTES/],
    [
      "a chunked body over the limit",
      () => {
        const big = new TextEncoder().encode(JSON.stringify(chat({ pad: "x".repeat(5000) })));
        const body = new ReadableStream({ start: (c) => (c.enqueue(big), c.close()) });
        return app.request("/api/chat", { method: "POST", body, headers: { ...auth, "transfer-encoding": "chunked" }, duplex: "half" } as RequestInit);
      },
      413,
      /CARAVAN_MAX_BODY_BYTES/,
    ],
    ["num_predict over the ceiling", () => post("/api/chat", chat({ options: { num_predict: 100000 } })), 400, /CARAVAN_MAX_NUM_PREDICT/],
    ["num_predict -1 (unbounded) under a ceiling", () => post("/api/generate", { model: MODEL, prompt: "x", stream: false, options: { num_predict: -1 } }), 400, /CARAVAN_MAX_NUM_PREDICT/],
    ["max_tokens over the ceiling (OpenAI)", () => post("/v1/chat/completions", { model: MODEL, messages: [{ role: "user", content: "x" }], max_tokens: 100000 }), 400, /CARAVAN_MAX_NUM_PREDICT/],
    ["num_ctx over the ceiling", () => post("/api/chat", chat({ options: { num_ctx: 1 << 20 } })), 400, /CARAVAN_MAX_NUM_CTX/],
    ["num_ctx over the ceiling on a load", () => post("/api/generate", { model: MODEL, options: { num_ctx: 1 << 20 } }), 400, /CARAVAN_MAX_NUM_CTX/],
    ["too many messages", () => post("/api/chat", chat({ messages: Array.from({ length: 9 }, () => ({ role: "user", content: "x" })) })), 400, /CARAVAN_MAX_MESSAGES/],
    ["too many embed inputs", () => post("/api/embed", { model: MODEL, input: Array.from({ length: 9 }, () => "x") }), 400, /CARAVAN_MAX_MESSAGES/],
    ["a path-traversal model name", () => post("/api/chat", chat({ model: "../../etc/passwd" })), 400, /invalid model/],
    ["an absolute model path", () => post("/api/show", { model: "/etc/passwd" }), 400, /invalid model/],
    ["a Windows path", () => post("/api/generate", { model: "C:\\models\\x", prompt: "x" }), 400, /invalid model/],
    ["a NUL byte in a model name", () => post("/api/chat", chat({ model: "stories\u0000.gguf" })), 400, /invalid model/],
    ["a traversal in a copy destination", () => post("/api/copy", { source: MODEL, destination: "../x" }), 400, /invalid destination/],
    ["a traversal in a delete", () => app.request("/api/delete", { method: "DELETE", body: JSON.stringify({ model: "..:latest" }), headers: auth }), 400, /invalid model/],
    ["a foreign Host (DNS rebinding)", () => app.request("/api/tags", { headers: { ...auth, host: "evil.example.com" } }), 403, /CARAVAN_ALLOWED_HOSTS/],
    ["a foreign Origin", () => app.request("/api/tags", { headers: { ...auth, origin: "https://evil.example.com" } }), 403, /CARAVAN_ORIGINS/],
  ];
  it.each(cases)("%s", async (_, send, status, message) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/json/);
    expect(JSON.stringify(await res.json())).toMatch(message);
  });

  it("accepts local hosts, the allowed list, and local/allowed origins (with CORS headers)", async () => {
    for (const host of ["localhost:11434", "127.0.0.1:11434", "[::1]:11434", "caravan.lan", "my.localhost"]) {
      expect((await app.request("/api/tags", { headers: { ...auth, host } })).status, host).toBe(200);
    }
    for (const origin of ["http://localhost:3000", "http://127.0.0.1", "tauri://localhost", "https://app.example.org"]) {
      const res = await app.request("/api/tags", { headers: { ...auth, origin } });
      expect(res.status, origin).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
    }
  });

  it("puts the CORS headers on refusals too (a page can read its 401), and Vary: Origin on every answer", async () => {
    const origin = "http://localhost:3000";
    const refused = await app.request("/api/tags", { headers: { origin } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe(origin);
    expect(refused.headers.get("vary")).toBe("Origin");
    const plain = await app.request("/api/tags", { headers: auth });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("access-control-allow-origin")).toBeNull();
    expect(plain.headers.get("vary")).toBe("Origin");
  });

  it("answers a CORS preflight without a key", async () => {
    const res = await app.request("/api/chat", { method: "OPTIONS", headers: { origin: "http://localhost:5173", "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" } });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
  });
});

describe("property: no input gives a 5xx", () => {
  // /api/show is left out: this stub worker cannot describe a model (its 503 is the stub's).
  const ENDPOINTS = ["/api/chat", "/api/generate", "/api/embed", "/api/embeddings", "/api/copy", "/api/delete", "/v1/chat/completions", "/v1/completions", "/v1/embeddings"];
  const VALID: Record<string, unknown> = {
    "/api/chat": chat(),
    "/api/generate": { model: MODEL, prompt: "x", stream: false },
    "/api/embed": { model: MODEL, input: ["a"] },
    "/api/embeddings": { model: MODEL, prompt: "a" },
    "/api/copy": { source: MODEL, destination: "copy" },
    "/api/delete": { model: "nothing-here" },
    "/v1/chat/completions": { model: MODEL, messages: [{ role: "user", content: "x" }] },
    "/v1/completions": { model: MODEL, prompt: "x" },
    "/v1/embeddings": { model: MODEL, input: "x" },
  };
  const status = async (path: string, body: string) => (await post(path, body)).status;

  it("random bodies", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), async (path, body) => {
        expect(await status(path, body)).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
  });

  it("valid bodies with one field replaced by anything", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), fc.boolean(), async (path, field, value, replaceExisting) => {
        const base = { ...(VALID[path] as Record<string, unknown>) };
        const keys = Object.keys(base);
        const key = replaceExisting ? keys[field.length % keys.length]! : field;
        base[key] = value;
        expect(await status(path, JSON.stringify(base))).toBeLessThan(500);
      }),
      { numRuns: 400 },
    );
  });

  it("valid bodies with nested options and message fields mutated", async () => {
    const options = fc.dictionary(fc.constantFrom("num_predict", "num_ctx", "temperature", "top_k", "stop", "seed", "num_gpu", "x"), fc.jsonValue({ maxDepth: 1 }));
    const message = fc.record({ role: fc.oneof(fc.constantFrom("user", "system", "assistant", "tool"), fc.string()), content: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: [] });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/api/chat", "/api/generate", "/v1/chat/completions"), options, fc.array(message, { maxLength: 4 }), async (path, opts, messages) => {
        const body = { ...(VALID[path] as Record<string, unknown>), options: opts, ...(path !== "/api/generate" && { messages }) };
        expect(await status(path, JSON.stringify(body))).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
  });
});
