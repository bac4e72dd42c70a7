import { LlamaEngine } from "../engine.ts";
import { EngineError, GenerationAbortedError } from "../errors.ts";
import type { FromRunner, StreamEvent, ToRunner, WireError } from "./protocol.ts";

/**
 * A runner: the child process an IsolatedEngine forks for one model. It runs a LlamaEngine and
 * answers the parent's messages. A native crash here (llama.cpp aborting on input it cannot
 * tokenize) ends this process only; the parent rejects what was in flight and starts a new one.
 */

/** How long streamed pieces wait to be sent together: one IPC message per token would cost more than the token. */
const COALESCE_MS = 4;

const send = (message: FromRunner): void => {
  if (process.connected) process.send!(message);
};

let engine: LlamaEngine | undefined;
const running = new Map<number, AbortController>();

/** The pieces of one request not yet sent, in order. */
class Outbox {
  private events: StreamEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** the first piece goes out at once: waiting would add the whole delay to the time to first token */
  private sentAny = false;
  constructor(private readonly id: number) {}

  push(event: StreamEvent): void {
    const last = this.events.at(-1);
    if ((event.k === "text" || event.k === "thinking") && last?.k === event.k) last.s += event.s;
    else this.events.push(event);
    if (!this.sentAny) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), COALESCE_MS);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.events.length === 0) return;
    send({ t: "events", id: this.id, events: this.events });
    this.events = [];
    this.sentAny = true;
  }
}

function toWire(error: unknown): WireError {
  if (error instanceof GenerationAbortedError) return { name: "AbortError", message: error.message, partial: error.partial };
  if (error instanceof Error) return { name: error instanceof EngineError ? error.name : "EngineError", message: error.message };
  return { name: "EngineError", message: String(error) };
}

async function answer(id: number, work: (signal: AbortSignal, outbox: Outbox) => Promise<unknown>): Promise<void> {
  const controller = new AbortController();
  const outbox = new Outbox(id);
  running.set(id, controller);
  try {
    const value = await work(controller.signal, outbox);
    outbox.flush();
    send({ t: "result", id, value: value as never, loaded: engine!.loaded().length > 0 });
  } catch (error) {
    outbox.flush();
    send({ t: "error", id, error: toWire(error), loaded: (engine?.loaded().length ?? 0) > 0 });
  } finally {
    running.delete(id);
  }
}

async function onMessage(message: ToRunner): Promise<void> {
  switch (message.t) {
    case "init":
      engine = await LlamaEngine.create({ ...message.config, log: (level, msg, fields) => send({ t: "log", level, message: msg, fields }) });
      send({ t: "ready" });
      return;
    case "load":
      return answer(message.id, () => engine!.ensureLoaded(message.entry, message.options));
    case "device":
      return answer(message.id, () => engine!.device());
    case "generate": {
      const { wantLogprobs, ...req } = message.req;
      return answer(message.id, (signal, out) =>
        engine!.generate({
          ...req,
          signal,
          onText: (s) => out.push({ k: "text", s }),
          onThinking: (s) => out.push({ k: "thinking", s }),
          onToolCall: (call) => out.push({ k: "tool", call }),
          onLogprob: wantLogprobs ? (e) => out.push({ k: "logprob", e }) : undefined,
        }),
      );
    }
    case "complete": {
      const { wantLogprobs, ...req } = message.req;
      return answer(message.id, (signal, out) =>
        engine!.complete({ ...req, signal, onText: (s) => out.push({ k: "text", s }), onLogprob: wantLogprobs ? (e) => out.push({ k: "logprob", e }) : undefined }),
      );
    }
    case "embed":
      return answer(message.id, (signal) => engine!.embed({ ...message.req, signal }));
    case "abort":
      running.get(message.id)?.abort(new Error("aborted by the parent"));
      return;
    case "close":
      await engine?.close();
      process.exit(0);
  }
}

process.on("message", (message: ToRunner) => {
  onMessage(message).catch((error: unknown) => {
    send({ t: "log", level: "error", message: "runner failed", fields: { error: String(error) } });
    process.exit(1);
  });
});
// The parent is gone (it exited or was killed): nobody can use this model any more.
process.on("disconnect", () => process.exit(0));
