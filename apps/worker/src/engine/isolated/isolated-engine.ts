import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ModelOptions } from "@caravan/protocol";
import type { CatalogEntry } from "../../catalog/catalog.ts";
import type { Engine, LoadedModel } from "../engine-api.ts";
import { EngineClosedError, EngineError, EngineRequestError, GenerationAbortedError, abortError } from "../errors.ts";
import type { LoadSettings } from "../load-options.ts";
import { planLlamaLoad, type LoadPlan } from "../load-plan.ts";
import type { CompleteRequest, EmbedRequest, EmbedResult, EngineConfig, EngineLog, GenerateRequest, GenerateResult } from "../types.ts";
import type { DeviceInfo, FromRunner, StreamEvent, ToRunner, WireError } from "./protocol.ts";

const RUNNER_ENTRY = fileURLToPath(new URL("./runner.ts", import.meta.url));
/** A runner asked to close that has not exited by then is killed. */
const CLOSE_GRACE_MS = 10_000;
/** Bytes of a runner's stderr kept for the log line of a crash. */
const STDERR_TAIL = 2000;

export interface IsolatedEngineConfig extends EngineConfig {
  /**
   * A model's runner died: its copy is gone (the worker's residency must forget it). Called once
   * per crash, after the runner's requests were rejected.
   */
  onModelLost?: (model: string, reason: string) => void;
}

type Activity = "loading" | "generating" | "completing" | "embedding" | "reporting the device";

interface Pending {
  activity: Activity;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** takes streamed pieces; answers whether (undefined) or when its consumer takes more */
  onEvents?: (events: StreamEvent[]) => Promise<void> | undefined;
  signal?: AbortSignal;
}

/** One runner process, serving one model: requests go to it and their answers come back over IPC. */
class Runner {
  private readonly child: ChildProcess;
  private readonly ready: Promise<void>;
  private readonly exited: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** set once the parent asked it to exit: an exit is then no crash */
  private ending: Promise<void> | undefined;
  /** how it crashed, once it has */
  private crashed: string | undefined;
  private stderr = "";
  private readonly startedAt = process.hrtime.bigint();
  /** nanoseconds the fork took, charged to its model's load */
  spawnNs = 0;

  constructor(
    readonly model: string,
    config: Omit<EngineConfig, "log">,
    private readonly log: EngineLog,
    /** the process is gone; `crash` says how when nobody asked it to go */
    private readonly onGone: (crash: string | undefined) => void,
  ) {
    this.child = fork(RUNNER_ENTRY, [], {
      execArgv: ["--import", "tsx"],
      serialization: "advanced",
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      env: { ...process.env, CARAVAN_RUNNER_MODEL: model },
    });
    // llama.cpp writes to stdout/stderr directly; the worker's stdout is its JSON log, so keep it out.
    const keep = (data: string) => (this.stderr = (this.stderr + data).slice(-STDERR_TAIL));
    this.child.stdout!.setEncoding("utf8").on("data", keep);
    this.child.stderr!.setEncoding("utf8").on("data", keep);
    this.exited = new Promise((resolve) => this.child.once("exit", () => resolve()));
    this.ready = new Promise<void>((resolve, reject) => {
      this.child.once("exit", (code, signal) => reject(new EngineError(`the runner of model '${model}' exited (${signal ?? `code ${code}`}) before it was ready: ${this.stderr.trim().slice(-500)}`)));
      this.child.on("message", (message: FromRunner) => {
        if (message.t === "ready") {
          this.spawnNs = Number(process.hrtime.bigint() - this.startedAt);
          resolve();
        } else this.onMessage(message);
      });
    });
    this.ready.catch(() => {}); // the requests waiting on it get the error
    this.child.once("exit", (code, signal) => this.onExit(code, signal));
    this.send({ t: "init", config });
    this.log("info", "runner started", { model, pid: this.child.pid });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends one request once the runner is ready; settles with its answer, an abort, or the runner's death. */
  call(activity: Activity, message: (id: number) => ToRunner, signal?: AbortSignal, onEvents?: Pending["onEvents"]): Promise<unknown> {
    if (this.crashed) return Promise.reject(new EngineError(`the runner of model '${this.model}' crashed (${this.crashed}); it will be restarted for the next request`));
    if (this.ending) return Promise.reject(new EngineClosedError());
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      let sent = false;
      const onAbort = () => {
        if (sent) this.send({ t: "abort", id }); // the runner answers with the partial generation
        else if (this.pending.delete(id)) reject(abortError(signal!));
      };
      const done = () => signal?.removeEventListener("abort", onAbort);
      this.pending.set(id, { activity, signal, onEvents, resolve: (value) => (done(), resolve(value)), reject: (error) => (done(), reject(error)) });
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.ready.then(
        () => {
          if (!this.pending.has(id)) return; // aborted while the runner started
          sent = true;
          this.send(message(id));
        },
        (error: unknown) => {
          if (this.pending.delete(id)) (done(), reject(error));
        },
      );
    });
  }

  /** Asks it to exit (its requests reject with EngineClosedError) and waits; one that hangs is killed. Safe to call twice. */
  end(): Promise<void> {
    this.ending ??= (async () => {
      this.send({ t: "close" });
      const timer = setTimeout(() => this.child.kill("SIGKILL"), CLOSE_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
      this.log("info", "runner ended", { model: this.model, pid: this.child.pid });
    })();
    return this.ending;
  }

  private send(message: ToRunner): void {
    if (this.child.connected) this.child.send(message);
  }

  private onMessage(message: FromRunner): void {
    if (message.t === "log") {
      this.log(message.level, message.message, { ...message.fields, model: this.model, runner: this.child.pid });
      return;
    }
    if (message.t === "ready") return;
    if (message.t === "events") {
      const consumers: Promise<void>[] = [];
      for (const batch of message.batches) {
        const ready = this.pending.get(batch.id)?.onEvents?.(batch.events);
        if (ready) consumers.push(ready);
      }
      // The runner's next message waits until every job these pieces went to takes more.
      if (consumers.length === 0) this.send({ t: "more" });
      else void Promise.all(consumers).then(() => this.send({ t: "more" }));
      return;
    }
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (message.t === "result") pending.resolve(message.value);
    else pending.reject(fromWire(message.error, pending.signal));
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    const how = signal ?? `exit code ${code}`;
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.reject(
        this.ending
          ? new EngineClosedError()
          : new EngineError(`the runner of model '${this.model}' crashed (${how}) while ${pending.activity}; it will be restarted for the next request`),
      );
    }
    if (!this.ending) {
      this.crashed = how;
      this.ending = Promise.resolve(); // nothing left to end
      this.log("error", "runner crashed", { model: this.model, pid: this.child.pid, exit: how, output: this.stderr.trim().slice(-1000) });
    }
    this.onGone(this.crashed && `runner crashed (${how})`);
  }
}

/** A model loaded in a runner process: its requests go there over IPC; disposing it ends the runner. */
class RemoteModel implements LoadedModel {
  constructor(
    readonly name: string,
    readonly contextSize: number,
    readonly slots: number,
    readonly loadDurationNs: number,
    private readonly runner: Runner,
  ) {}

  generate(req: GenerateRequest): Promise<GenerateResult> {
    const { signal, onText, onThinking, onToolCall, onLogprob, ready, ...rest } = req;
    return this.runner.call("generating", (id) => ({ t: "generate", id, req: { ...rest, wantLogprobs: onLogprob !== undefined } }), signal, (events) => {
      for (const e of events) {
        if (e.k === "text") onText(e.s);
        else if (e.k === "thinking") onThinking?.(e.s);
        else if (e.k === "tool") onToolCall?.(e.call);
        else onLogprob?.(e.e);
      }
      return ready?.();
    }) as Promise<GenerateResult>;
  }

  complete(req: CompleteRequest): Promise<GenerateResult> {
    const { signal, onText, onLogprob, ready, ...rest } = req;
    return this.runner.call("completing", (id) => ({ t: "complete", id, req: { ...rest, wantLogprobs: onLogprob !== undefined } }), signal, (events) => {
      for (const e of events) {
        if (e.k === "text") onText(e.s);
        else if (e.k === "logprob") onLogprob?.(e.e);
      }
      return ready?.();
    }) as Promise<GenerateResult>;
  }

  embed(req: EmbedRequest): Promise<EmbedResult> {
    const { signal, ...rest } = req;
    return this.runner.call("embedding", (id) => ({ t: "embed", id, req: rest }), signal) as Promise<EmbedResult>;
  }

  dispose(): Promise<void> {
    return this.runner.end();
  }
}

/**
 * An Engine that loads each model in its own child process (a "runner", as Ollama isolates its
 * runners), each a LlamaEngine for that one model; the model it gives back proxies requests to
 * it over IPC.
 *
 * Why: llama.cpp can abort the process on input it cannot handle (TinyStories-656K aborts on `#`);
 * that cannot be caught in JS. In a runner it ends that model's process only: the requests it was
 * running or had queued reject at once with an EngineError that says so, the model counts as
 * unloaded (onModelLost), other models and their requests carry on, and the next request for the
 * model loads it in a new runner. The price is an IPC hop each way before the first token (together
 * ~1 ms of time to first token on 2 shared cores, mostly the processes' wake-ups), one per streamed
 * batch and its `more` (the runner merges what comes until the jobs' transport has sent the last
 * batch; the first piece goes at once) and one Node process per loaded model.
 */
export class IsolatedEngine implements Engine {
  readonly name = "llama";
  private readonly runners = new Set<Runner>();
  private closed: Promise<void> | undefined;
  private readonly log: EngineLog;
  private readonly runnerConfig: Omit<EngineConfig, "log">;

  private constructor(
    private readonly config: IsolatedEngineConfig,
    private readonly deviceInfo: DeviceInfo,
  ) {
    this.log = config.log ?? (() => {});
    this.runnerConfig = { threads: config.threads, numParallel: config.numParallel, gpu: config.gpu, defaultNumCtx: config.defaultNumCtx };
  }

  /**
   * Checks the config and asks a short-lived runner for the device: the parent never loads the
   * llama.cpp binding (on a GPU that would hold device memory for nothing), and a runner that cannot
   * start fails the worker's start rather than its first request.
   */
  static async create(config: IsolatedEngineConfig): Promise<IsolatedEngine> {
    if (!Number.isInteger(config.threads) || config.threads < 1) throw new EngineError(`threads must be a positive integer, got ${config.threads}`);
    if (!Number.isInteger(config.numParallel) || config.numParallel < 1)
      throw new EngineError(`numParallel must be a positive integer, got ${config.numParallel}`);
    const probe = new IsolatedEngine({ ...config, log: undefined, onModelLost: undefined }, { gpu: false });
    let device: DeviceInfo;
    try {
      device = (await probe.start("(device probe)").call("reporting the device", (id) => ({ t: "device", id }))) as DeviceInfo;
    } finally {
      await probe.close();
    }
    (config.log ?? (() => {}))("info", "engine ready (a runner process per model)", { gpu: device.gpu, threads: config.threads, numParallel: config.numParallel });
    return new IsolatedEngine(config, device);
  }

  /** Starts a runner and loads the model in it; the runner's start is part of the load's duration. */
  async load(entry: CatalogEntry, settings: LoadSettings): Promise<LoadedModel> {
    if (this.closed) throw new EngineClosedError();
    const runner = this.start(entry.name);
    try {
      const loaded = (await runner.call("loading", (id) => ({ t: "load", id, entry, settings }))) as { loadDurationNs: number; contextSize: number };
      return new RemoteModel(entry.name, loaded.contextSize, this.config.numParallel, loaded.loadDurationNs + runner.spawnNs, runner);
    } catch (error) {
      await runner.end();
      throw error;
    }
  }

  /** As the probe runner saw it at start. */
  async device(): Promise<DeviceInfo> {
    return this.deviceInfo;
  }

  /** As the runner's LlamaEngine will plan it (the same config), without loading the binding here. */
  planLoad(entry: CatalogEntry, options: ModelOptions): LoadPlan {
    return planLlamaLoad(entry, options, this.config);
  }

  /** process ids of the runners alive now (for tests and diagnosis) */
  runnerPids(): number[] {
    return [...this.runners].map((r) => r.pid).filter((pid) => pid !== undefined);
  }

  /**
   * Ends every runner: each aborts its requests (EngineClosedError) as LlamaEngine.close does,
   * disposes its model and exits; one that hangs is killed. Safe to call twice.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await Promise.allSettled([...this.runners].map((runner) => runner.end()));
    })();
    return this.closed;
  }

  private start(model: string): Runner {
    const runner = new Runner(model, this.runnerConfig, this.log, (crash) => {
      this.runners.delete(runner);
      if (crash) this.config.onModelLost?.(model, crash);
    });
    this.runners.add(runner);
    return runner;
  }
}

function fromWire(error: WireError, signal: AbortSignal | undefined): EngineError {
  switch (error.name) {
    case "AbortError":
      return new GenerationAbortedError(signal?.reason, error.partial);
    case "EngineRequestError":
      return new EngineRequestError(error.message);
    case "EngineClosedError":
      return new EngineClosedError();
    default:
      return new EngineError(error.message);
  }
}
