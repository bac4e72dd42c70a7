import { once } from "node:events";
import { request, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { Hono, type Context } from "hono";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ChunkMessage, DoneMessage } from "@caravan/protocol";
import { corsGuard } from "../guard/cors.ts";
import { streamSse } from "../openai/sse.ts";
import { chunkEvent, doneEvent } from "../testing/events.ts";
import { NodeServers } from "../testing/node-server.ts";
import { streamNdjson } from "./ndjson.ts";
import type { StartedJob } from "./started-job.ts";

type Event = ChunkMessage | DoneMessage | { type: "error"; message: string };

const chunk = (content: string) => chunkEvent(content);
const done = doneEvent();

interface FakeJob extends StartedJob {
  cancels: number;
  finishes: number;
  /** how many chunks the response has taken from the job */
  pulled: number;
  finished: Promise<void>;
}

/**
 * A started job that yields `chunks`, then `done`, or with `untilCancelled` waits, as a real run
 * does, until it is cancelled and then yields the cancellation error.
 */
function fakeJob(chunks: string[], { untilCancelled = false } = {}): FakeJob {
  let cancelled!: () => void;
  const cancellation = new Promise<void>((resolve) => (cancelled = resolve));
  let finished!: () => void;
  async function* events(): AsyncGenerator<Event> {
    for (const content of chunks) {
      job.pulled++;
      yield chunk(content);
    }
    if (!untilCancelled) return yield done;
    await cancellation;
    yield { type: "error", message: "request cancelled" };
  }
  const job: FakeJob = {
    cancels: 0,
    finishes: 0,
    pulled: 0,
    finished: new Promise<void>((resolve) => (finished = resolve)),
    events: events(),
    elapsedNs: () => 0,
    finish: () => {
      job.finishes++;
      finished();
    },
    cancel: () => {
      job.cancels++;
      cancelled();
    },
  };
  return job;
}

const ndjsonLine = (event: ChunkMessage | DoneMessage) => (event.type === "chunk" ? { content: event.content } : { done: true });

/** What the middleware after the handler saw (the telemetry middleware reads the status there). */
let statusAfterHandler: number | undefined;

/** An app with the middleware a streamed answer must keep the headers of, answering with `respond`. */
function appFor(respond: (c: Context) => Response | Promise<Response>): Hono {
  const app = new Hono();
  app.use(async (c, next) => {
    c.header("X-Request-Id", "req-1");
    await next();
    statusAfterHandler = c.res.status;
    if (c.req.header("x-fail-after") !== undefined) throw new Error("middleware failed after the handler");
  });
  app.use(corsGuard([]));
  app.post("/", respond);
  app.onError((_, c) => c.json({ error: "failed" }, 500));
  return app;
}

const servers = new NodeServers();
const listen = (app: Hono) => servers.listen(app);
afterEach(async () => {
  statusAfterHandler = undefined;
  await servers.close();
});

function post(url: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => request(url, { method: "POST", headers }, resolve).on("error", reject).end());
}

async function text(response: IncomingMessage): Promise<string> {
  response.setEncoding("utf8");
  let body = "";
  for await (const part of response) body += part;
  return body;
}

function expectStreamHeaders(headers: IncomingHttpHeaders, contentType: string) {
  expect(headers["content-type"]).toBe(contentType);
  expect(headers["transfer-encoding"]).toBe("chunked");
  expect(headers["content-length"]).toBeUndefined();
  expect(headers["x-hono-already-sent"]).toBeUndefined();
  // set before the handler: by the first middleware, and by CORS
  expect(headers["x-request-id"]).toBe("req-1");
  expect(headers["access-control-allow-origin"]).toBe("http://localhost:3000");
  expect(headers.vary).toBe("Origin");
}

describe("streamed answers written to Node's response", () => {
  it.each([
    ["a handler that returns at once", (job: StartedJob) => (c: Context) => streamNdjson(c, job, ndjsonLine)],
    ["an async handler", (job: StartedJob) => async (c: Context) => (await Promise.resolve(), streamNdjson(c, job, ndjsonLine))],
  ])("writes each line in order, chunked, under the middleware's headers (%s)", async (_, handler) => {
    const job = fakeJob(["Once", " upon", " a time"]);
    const response = await post(await listen(appFor(handler(job))), { origin: "http://localhost:3000" });
    expect(response.statusCode).toBe(200);
    expectStreamHeaders(response.headers, "application/x-ndjson");
    expect(await text(response)).toBe('{"content":"Once"}\n{"content":" upon"}\n{"content":" a time"}\n{"done":true}\n');
    await job.finished;
    expect(statusAfterHandler).toBe(200);
    expect({ finishes: job.finishes, cancels: job.cancels }).toEqual({ finishes: 1, cancels: 0 });
  });

  it("writes the answer where no middleware touches the response after the handler", async () => {
    // Under @hono/node-server the handler's Response is its own "light" kind, which it would
    // write out empty by itself unless the Response has been made a real one.
    const job = fakeJob(["Once"]);
    const app = new Hono();
    app.post("/", (c) => streamNdjson(c, job, ndjsonLine));
    const response = await post(await listen(app));
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("application/x-ndjson");
    expect(response.headers["x-hono-already-sent"]).toBeUndefined();
    expect(await text(response)).toBe('{"content":"Once"}\n{"done":true}\n');
    await job.finished;
    expect({ finishes: job.finishes, cancels: job.cancels }).toEqual({ finishes: 1, cancels: 0 });
  });

  it("writes SSE events and [DONE] the same way", async () => {
    const job = fakeJob(["Once"]);
    const response = await post(await listen(appFor((c) => streamSse(c, job, (event) => [{ text: event.type === "chunk" ? event.content : "end" }]))), { origin: "http://localhost:3000" });
    expectStreamHeaders(response.headers, "text/event-stream");
    expect(response.headers["cache-control"]).toBe("no-cache");
    expect(await text(response)).toBe('data: {"text":"Once"}\n\ndata: {"text":"end"}\n\ndata: [DONE]\n\n');
    await job.finished;
    expect({ finishes: job.finishes, cancels: job.cancels }).toEqual({ finishes: 1, cancels: 0 });
  });

  it("sends each line as it comes; a client that leaves cancels the job once, which is finished once", async () => {
    const job = fakeJob(["Once"], { untilCancelled: true });
    const response = await post(await listen(appFor((c) => streamNdjson(c, job, ndjsonLine))));
    const [first] = (await once(response, "data")) as [Buffer];
    expect(first.toString()).toBe('{"content":"Once"}\n');
    response.destroy();
    await job.finished;
    await sleep(50);
    expect({ finishes: job.finishes, cancels: job.cancels }).toEqual({ finishes: 1, cancels: 1 });
  });

  /** Enough 64 KiB lines to fill the socket's buffers on both sides of loopback. */
  const bigLines = Array.from({ length: 512 }, (_, i) => `${i} ${"x".repeat(64 * 1024)}`);

  /** Waits until the response stops taking lines from `job` (its writes wait for the client). */
  async function stalled(job: FakeJob): Promise<number> {
    for (let pulled = -1; pulled !== job.pulled; ) {
      pulled = job.pulled;
      await sleep(100);
    }
    return job.pulled;
  }

  it("waits for a slow reader instead of buffering the whole answer", async () => {
    const job = fakeJob(bigLines);
    const response = await post(await listen(appFor((c) => streamNdjson(c, job, ndjsonLine))));
    response.pause();
    expect(await stalled(job)).toBeLessThan(bigLines.length);
    const lines = (await text(response)).trimEnd().split("\n");
    expect(lines).toEqual([...bigLines.map((content) => JSON.stringify({ content })), '{"done":true}']);
    await job.finished;
    expect({ finishes: job.finishes, cancels: job.cancels }).toEqual({ finishes: 1, cancels: 0 });
  });

  it("stops waiting for a slow reader that leaves: the job is cancelled and finished once", async () => {
    const job = fakeJob(bigLines);
    const response = await post(await listen(appFor((c) => streamNdjson(c, job, ndjsonLine))));
    response.pause();
    await stalled(job);
    response.destroy();
    await job.finished;
    expect(job.pulled).toBeLessThan(bigLines.length);
    expect({ finishes: job.finishes, cancels: job.cancels }).toEqual({ finishes: 1, cancels: 1 });
  });

  it("cuts the answer off when writing it fails: the job is cancelled and finished once", async () => {
    const quiet = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const job = fakeJob(["Once", " upon"], { untilCancelled: true });
    const failing = (event: ChunkMessage | DoneMessage) => {
      if (event.type === "chunk" && event.content === " upon") throw new Error("cannot render");
      return ndjsonLine(event);
    };
    // cut off before or after the head, depending on whether the first line left in time
    await expect(post(await listen(appFor((c) => streamNdjson(c, job, failing)))).then(text)).rejects.toThrow();
    await job.finished;
    expect(quiet).toHaveBeenCalledWith(expect.objectContaining({ message: "cannot render" }));
    quiet.mockRestore();
    expect({ finishes: job.finishes, cancels: job.cancels }).toEqual({ finishes: 1, cancels: 1 });
  });

  it("writes nothing when middleware replaced the answer after the handler, and cancels the job", async () => {
    const job = fakeJob(["Once"], { untilCancelled: true });
    const response = await post(await listen(appFor((c) => streamNdjson(c, job, ndjsonLine))), { "x-fail-after": "1" });
    expect(response.statusCode).toBe(500);
    expect(await text(response)).toBe('{"error":"failed"}');
    await job.finished;
    expect({ finishes: job.finishes, cancels: job.cancels }).toEqual({ finishes: 1, cancels: 1 });
  });
});

describe("streamed answers without a Node response (app.request)", () => {
  it("go through Hono's web stream with the same lines", async () => {
    const job = fakeJob(["Once"]);
    const response = await appFor((c) => streamNdjson(c, job, ndjsonLine)).request("/", { method: "POST", headers: { origin: "http://localhost:3000" } });
    expect(response.headers.get("content-type")).toBe("application/x-ndjson");
    expect(response.headers.get("vary")).toBe("Origin");
    expect(await response.text()).toBe('{"content":"Once"}\n{"done":true}\n');
    await job.finished;
    expect({ finishes: job.finishes, cancels: job.cancels }).toEqual({ finishes: 1, cancels: 0 });
  });
});
