import { request } from "node:http";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { readBody } from "./body.ts";
import { HttpError } from "./errors.ts";
import { maxBody } from "./guard/body-limit.ts";
import { NodeServers } from "./testing/node-server.ts";

const Body = z.object({ model: z.string(), prompt: z.string().optional() });

/** readBody behind maxBody, served by node:http as the gateway serves it: answers what it read. */
function app(): Hono {
  const hono = new Hono();
  hono.use(maxBody(1024));
  hono.post("/", async (c) => c.json((await readBody(c, Body)).body));
  hono.onError((error, c) => c.json({ error: error.message }, error instanceof HttpError ? (error.status as 400) : 500));
  return hono;
}

const servers = new NodeServers();
afterEach(() => servers.close());

const listen = async (): Promise<number> => Number(new URL(await servers.listen(app())).port);

/** POSTs `parts` one write each, `pauseMs` apart; with `chunked`, without a Content-Length. */
function post(port: number, parts: Buffer[], { chunked = false, pauseMs = 0 } = {}): Promise<{ status: number; body: string }> {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  return new Promise((resolve, reject) => {
    const req = request({ port, host: "127.0.0.1", method: "POST", headers: chunked ? { "transfer-encoding": "chunked" } : { "content-length": length } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (text: string) => (body += text));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    void (async () => {
      for (const part of parts) {
        req.write(part);
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      }
      req.end();
    })();
  });
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe("readBody over node:http", () => {
  it("reads a body that came with its headers", async () => {
    const port = await listen();
    expect(await post(port, [json({ model: "m", prompt: "Once upon a time" })])).toEqual({ status: 200, body: '{"model":"m","prompt":"Once upon a time"}' });
  });

  it("reads a body that arrives in parts after its headers", async () => {
    const port = await listen();
    const whole = json({ model: "m", prompt: "héllo" });
    const parts = [whole.subarray(0, 5), whole.subarray(5, 16), whole.subarray(16)];
    expect(await post(port, parts, { pauseMs: 30 })).toEqual({ status: 200, body: '{"model":"m","prompt":"héllo"}' });
  });

  it("reads a chunked body (no Content-Length) through the streamed limit", async () => {
    const port = await listen();
    expect(await post(port, [json({ model: "m" })], { chunked: true })).toEqual({ status: 200, body: '{"model":"m"}' });
    const tooLarge = await post(port, [json({ model: "m", prompt: "x".repeat(2000) })], { chunked: true });
    expect(tooLarge.status).toBe(413);
  });

  it("decodes as c.req.text() does: a byte-order mark dropped, a split multi-byte character kept", async () => {
    const port = await listen();
    const whole = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json({ model: "m", prompt: "é" })]);
    const split = whole.indexOf(Buffer.from("é")) + 1; // between the two bytes of é
    expect(await post(port, [whole])).toEqual({ status: 200, body: '{"model":"m","prompt":"é"}' });
    expect(await post(port, [whole.subarray(0, split), whole.subarray(split)], { pauseMs: 30 })).toEqual({ status: 200, body: '{"model":"m","prompt":"é"}' });
  });

  it("says what is wrong with an empty, a broken or a non-object body", async () => {
    const port = await listen();
    expect(await post(port, [])).toEqual({ status: 400, body: '{"error":"missing request body"}' });
    expect((await post(port, [Buffer.from('{"model":')])).body).toMatch(/^\{"error":"invalid JSON: /);
    expect(await post(port, [Buffer.from("[1]")])).toEqual({ status: 400, body: '{"error":"request body must be a JSON object"}' });
  });
});
