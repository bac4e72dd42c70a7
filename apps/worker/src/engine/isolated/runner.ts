import { LlamaEngine } from "../engine.ts";
import { EngineError, GenerationAbortedError } from "../errors.ts";
import type { FromRunner, StreamEvent, ToRunner, WireError } from "./protocol.ts";

/**
 * A runner: the child process an IsolatedEngine forks for one model. It runs a LlamaEngine and
 * answers the parent's messages. A native crash here (llama.cpp aborting on input it cannot
 * tokenize) ends this process only; the parent rejects what was in flight and starts a new one.
 */

/**
 * At most one message of streamed pieces per this many ms. Each message costs both processes a
 * write, a wake-up and a read: one every 4 ms cost stories260K 4–6 % of its decode speed on 2
 * cores (in the worker alone and through `pnpm start`); at 10 ms the loss was within the noise.
 * It is above the worker's ChunkBatcher window (5 ms), so each message passes through that one
 * at once instead of waiting for its timer.
 */
const COALESCE_MS = 10;

const send = (message: FromRunner): void => {
  if (process.connected) process.send!(message);
};

let engine: LlamaEngine | undefined;
const running = new Map<number, AbortController>();

/**
 * The pieces of one request not yet sent, in order. A piece that comes COALESCE_MS or more after
 * the last message goes out at once: the first one (waiting would add the whole delay to the
 * time to first token), and every piece of a model slower than that. Faster pieces wait for the
 * rest of the window and travel together.
 */
class Outbox {
  private events: StreamEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastSentAt = -Infinity;
  constructor(private readonly id: number) {}

  push(event: StreamEvent): void {
    const last = this.events.at(-1);
    if ((event.k === "text" || event.k === "thinking") && last?.k === event.k) last.s += event.s;
    else this.events.push(event);
    if (this.timer) return;
    const wait = this.lastSentAt + COALESCE_MS - performance.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.events.length === 0) return;
    send({ t: "events", id: this.id, events: this.events });
    this.events = [];
    this.lastSentAt = performance.now();
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
