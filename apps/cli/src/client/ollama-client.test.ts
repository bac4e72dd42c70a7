import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeOllamaServer } from "../testing/fake-ollama-server.ts";
import { ApiError, ConnectionError } from "./errors.ts";
import { OllamaClient } from "./ollama-client.ts";
import type { PullProgress } from "./types.ts";

// pull/delete/copy against FakeOllamaServer (caravan has no such endpoints yet); the chat stream
// and errors against small ad-hoc servers. The real server is exercised in test/cli.

describe("OllamaClient against the fake model-management server", () => {
  const fake = new FakeOllamaServer();
  let client: OllamaClient;
  beforeAll(async () => {
    await fake.start();
    client = new OllamaClient(fake.url);
  });
  afterAll(() => fake.close());

  it("pulls with Ollama's request shape and yields the progress lines up to success", async () => {
    const seen: PullProgress[] = [];
    for await (const update of client.pull("tiny", false)) seen.push(update);
    expect(fake.requests.at(-1)).toEqual({ method: "POST", path: "/api/pull", body: { model: "tiny", insecure: false, stream: true } });
    expect(seen[0]).toEqual({ status: "pulling manifest" });
    expect(seen.at(-1)).toEqual({ status: "success" });
    expect(seen.filter((s) => s.digest).at(-1)).toMatchObject({ completed: fake.layerSize, total: fake.layerSize });
    expect(fake.models.has("tiny:latest")).toBe(true);
  });

  it("turns an error line in the pull stream into an ApiError", async () => {
    const pulling = async () => {
      for await (const _ of client.pull("missing-model", false));
    };
    await expect(pulling()).rejects.toThrow(new ApiError(200, "pull model manifest: file does not exist"));
  });

  it("copies and deletes; a missing model is a 404 with the server's message", async () => {
    await client.copy("tiny", "tiny-copy");
    expect(fake.requests.at(-1)?.body).toEqual({ source: "tiny", destination: "tiny-copy" });
    await client.delete("tiny-copy");
    expect(fake.requests.at(-1)).toEqual({ method: "DELETE", path: "/api/delete", body: { model: "tiny-copy" } });
    const error = await client.delete("tiny-copy").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 404, message: "model 'tiny-copy' not found" });
  });

  it("names a route the server does not have", async () => {
    await expect(client.ps()).rejects.toThrow(`the server at ${fake.url} does not have GET /api/ps (404 page not found)`);
  });
});

describe("OllamaClient streams and failures", () => {
  let url = "";
  // the chat request's model name says how the answer goes
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    if (req.url === "/api/chat") {
      const mode = (JSON.parse(body) as { model: string }).model;
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write('{"message":{"role":"assistant","content":"Once"},"done":false}\n');
      if (mode === "error") res.end('{"error":"worker w1 was lost"}\n');
      else if (mode === "cut") res.end();
      else res.end('{"message":{"role":"assistant","content":" upon"},"done":true,"eval_count":2}\n');
      return;
    }
    if (req.url === "/api/show") {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"model \'x\' not found"}');
      return;
    }
    res.writeHead(502, { "content-type": "text/html" }).end("<html>bad gateway</html>");
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const chat = async (mode: string) => {
    const chunks = [];
    for await (const chunk of new OllamaClient(url).chat({ model: mode, messages: [] })) chunks.push(chunk);
    return chunks;
  };

  it("yields chunks up to done", async () => {
    expect((await chat("ok")).map((c) => c.message?.content)).toEqual(["Once", " upon"]);
  });

  it("fails on an error line, and on a stream that ends before done", async () => {
    await expect(chat("error")).rejects.toThrow("worker w1 was lost");
    await expect(chat("cut")).rejects.toThrow("the server ended the answer before it was done");
  });

  it("reports the server's error message, or its text when it is not JSON", async () => {
    await expect(new OllamaClient(url).show("x")).rejects.toThrow("model 'x' not found");
    await expect(new OllamaClient(url).list()).rejects.toThrow(new ApiError(502, "<html>bad gateway</html>"));
  });

  it("says clearly when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await new OllamaClient(`http://127.0.0.1:${port}`).list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toBe(
      `could not connect to http://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}): is the server running? "caravan serve" starts one; --host points elsewhere`,
    );
  });
});
