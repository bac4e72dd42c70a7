import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * FAKE, for tests only: a tiny HTTP server that answers Ollama's model-management endpoints
 * (POST /api/pull, DELETE /api/delete, POST /api/copy, with GET /api/tags and the unload chat
 * `messages: []` + `keep_alive: 0` that `rm` sends first) in the shapes of Ollama's published
 * API. caravan's server does not have pull/delete/copy yet; the CLI's commands for them are tested
 * against this until it does. It keeps a set of model names and records every request.
 */
export class FakeOllamaServer {
  /** model names it "has" */
  readonly models = new Set<string>();
  /** what it was sent, in order */
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  /** bytes of the one layer a pull "downloads", in `steps` progress lines `stepDelayMs` apart */
  layerSize = 4_000_000;
  steps = 4;
  stepDelayMs = 0;
  private server?: Server;

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = "";
    for await (const chunk of req) text += chunk;
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    const route = `${req.method} ${req.url}`;
    this.requests.push({ method: req.method!, path: req.url!, body });
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    };
    const name = (value: unknown) => normalize(String(value ?? ""));

    switch (route) {
      case "GET /":
        res.writeHead(200, { "content-type": "text/plain" }).end("fake Ollama model-management server (caravan CLI tests)");
        return;
      case "GET /api/tags":
        return json(200, { models: [...this.models].sort().map((m) => ({ name: m, model: m, size: this.layerSize, digest: "f".repeat(64), modified_at: new Date().toISOString() })) });
      case "POST /api/chat": {
        const model = name(body.model);
        if (!this.models.has(model)) return json(404, { error: `model '${String(body.model)}' not found` });
        return json(200, { model, created_at: new Date().toISOString(), message: { role: "assistant", content: "" }, done: true, done_reason: body.keep_alive === 0 ? "unload" : "load" });
      }
      case "DELETE /api/delete": {
        const model = name(body.model);
        if (!this.models.delete(model)) return json(404, { error: `model '${String(body.model)}' not found` });
        return json(200, {});
      }
      case "POST /api/copy": {
        if (!this.models.has(name(body.source))) return json(404, { error: `model '${String(body.source)}' not found` });
        this.models.add(name(body.destination));
        return json(200, {});
      }
      case "POST /api/pull":
        return this.pull(name(body.model), res);
      default:
        return json(404, { error: "404 page not found" });
    }
  }

  /** Ollama's pull stream: manifest, one layer's progress, verify, write, success (or an error line). */
  private async pull(model: string, res: ServerResponse): Promise<void> {
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    const send = async (line: unknown) => {
      res.write(`${JSON.stringify(line)}\n`);
      if (this.stepDelayMs) await new Promise((r) => setTimeout(r, this.stepDelayMs));
    };
    await send({ status: "pulling manifest" });
    if (model.startsWith("missing")) {
      await send({ error: "pull model manifest: file does not exist" });
      res.end();
      return;
    }
    const digest = `sha256:${"ab12cd34ef56".repeat(5)}abcd`;
    const status = `pulling ${digest.slice(7, 19)}`;
    await send({ status, digest, total: this.layerSize });
    for (let i = 1; i <= this.steps; i++) await send({ status, digest, total: this.layerSize, completed: Math.round((this.layerSize * i) / this.steps) });
    await send({ status: "verifying sha256 digest" });
    await send({ status: "writing manifest" });
    this.models.add(model);
    await send({ status: "success" });
    res.end();
  }
}

function normalize(name: string): string {
  const lower = name.toLowerCase();
  return lower.includes(":") ? lower : `${lower}:latest`;
}
