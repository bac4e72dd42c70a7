import type { LoadedModel } from "../engine-api.ts";
import { LlamaEngine } from "../engine.ts";
import { EngineError, GenerationAbortedError } from "../errors.ts";
import type { FromRunner, StreamEvent, ToRunner, WireError } from "./protocol.ts";

/**
 * A runner: the child process an IsolatedEngine forks for one model. It runs a LlamaEngine, loads
 * the model once and answers the parent's messages. A native crash here (llama.cpp aborting on input it cannot
 * tokenize) ends this process only; the parent rejects what was in flight and starts a new one.
 */

const send = (message: FromRunner): void => {
  if (process.connected) process.send!(message);
};

let engine: LlamaEngine | undefined;
let model: LoadedModel | undefined;
const running = new Map<number, AbortController>();

/**
 * The streamed pieces of every request not yet sent, in order per request, and all of them in
 * one message: with several sequences generating at once, a message per request woke both
 * processes once per request where one carries them all. It keeps no clock: a message goes when
 * the parent has answered the last one with `more` (it sends that once the jobs those pieces went
 * to have had them sent by their transport, whose window is the one the stream waits in), and
 * what comes meanwhile waits and is merged. Each message costs both processes a write, a wake-up
 * and a read, so a fast model's pieces cross once per window, not once per token. A request's
 * first piece goes at once, whatever waits (its time to first token hangs on it), and so does what
 * a request streamed before its answer. A logprob entry sends nothing by coming: it waits for the
 * text it produced, which comes right after it.
 */
class Outbox {
  private pending = new Map<number, StreamEvent[]>();
  private readonly answered = new Set<number>();
  /** messages sent that the parent has not answered with `more` yet */
  private unanswered = 0;

  push(id: number, event: StreamEvent): void {
    const events = this.pending.get(id);
    const last = events?.at(-1);
    if ((event.k === "text" || event.k === "thinking") && last?.k === event.k) last.s += event.s;
    else if (events) events.push(event);
    else this.pending.set(id, [event]);
    // A logprob entry comes right before its text, and waits for it.
    const first = event.k !== "logprob" && !this.answered.has(id);
    if (first) this.answered.add(id);
    if (first || (this.unanswered === 0 && event.k !== "logprob")) this.sendPending();
  }

  /** The parent is ready for more. */
  more(): void {
    this.unanswered = Math.max(0, this.unanswered - 1);
    if (this.unanswered === 0) this.sendPending();
  }

  /** The request's answer follows: what it streamed must be out first. */
  finish(id: number): void {
    if (this.pending.has(id)) this.sendPending();
    this.answered.delete(id);
  }

  private sendPending(): void {
    if (this.pending.size === 0) return;
    send({ t: "events", batches: [...this.pending].map(([id, events]) => ({ id, events })) });
    this.pending = new Map();
    this.unanswered++;
  }
}

const outbox = new Outbox();

function toWire(error: unknown): WireError {
  if (error instanceof GenerationAbortedError) return { name: "AbortError", message: error.message, partial: error.partial };
  if (error instanceof Error) return { name: error instanceof EngineError ? error.name : "EngineError", message: error.message };
  return { name: "EngineError", message: String(error) };
}

async function answer(id: number, work: (signal: AbortSignal, out: { push(event: StreamEvent): void }) => Promise<unknown>): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const value = await work(controller.signal, { push: (event) => outbox.push(id, event) });
    outbox.finish(id);
    send({ t: "result", id, value: value as never });
  } catch (error) {
    outbox.finish(id);
    send({ t: "error", id, error: toWire(error) });
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
      return answer(message.id, async () => {
        model = await engine!.load(message.entry, message.settings);
        return { loadDurationNs: model.loadDurationNs, contextSize: model.contextSize };
      });
    case "device":
      return answer(message.id, () => engine!.device());
    case "generate": {
      const { wantLogprobs, ...req } = message.req;
      return answer(message.id, (signal, out) =>
        model!.generate({
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
        model!.complete({ ...req, signal, onText: (s) => out.push({ k: "text", s }), onLogprob: wantLogprobs ? (e) => out.push({ k: "logprob", e }) : undefined }),
      );
    }
    case "embed":
      return answer(message.id, (signal) => model!.embed({ ...message.req, signal }));
    case "abort":
      running.get(message.id)?.abort(new Error("aborted by the parent"));
      return;
    case "more":
      outbox.more();
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
