import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { canonicalModelName, type ModelOptions } from "@caravan/protocol";
import type { CatalogEntry } from "../../catalog/catalog.ts";
import type { Engine } from "../engine-api.ts";
import { EngineClosedError, EngineError, EngineRequestError, GenerationAbortedError, abortError } from "../errors.ts";
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
  onEvents?: (events: StreamEvent[]) => void;
  signal?: AbortSignal;
}

/** One runner process, serving one model. */
class Runner {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  readonly pending = new Map<number, Pending>();
  /** set once asked to go: it takes no new requests */
  retiring: Promise<void> | undefined;
  /** wakes a retire waiting for the last request */
  drained: (() => void) | undefined;
  /** the model is in the runner's memory (as of its last answer) */
  loaded = false;
  /** the parent asked it to exit: an exit is then no crash */
  closing = false;
  stderr = "";
  startedAt = process.hrtime.bigint();
  /** nanoseconds the fork took, charged to the first request's load_duration */
  spawnNs = 0;
  spawnCharged = false;

  constructor(
    readonly model: string,
    config: Omit<EngineConfig, "log">,
    onMessage: (runner: Runner, message: FromRunner) => void,
    onExit: (runner: Runner, code: number | null, signal: NodeJS.Signals | null) => void,
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
        } else onMessage(this, message);
      });
    });
    this.ready.catch(() => {}); // the requests waiting on it get the error
    this.child.once("exit", (code, signal) => onExit(this, code, signal));
    this.send({ t: "init", config });
  }

  send(message: ToRunner): void {
    if (this.child.connected) this.child.send(message);
  }

  /** The fork's time, once: for the first request that had to wait for it. */
  takeSpawnNs(): number {
    if (this.spawnCharged) return 0;
    this.spawnCharged = true;
    return this.spawnNs;
  }
}

/**
 * An Engine that runs each loaded model in its own child process (a "runner", as Ollama isolates
 * its runners), each a LlamaEngine for that one model, and proxies requests to it over IPC.
 *
 * Why: llama.cpp can abort the process on input it cannot handle (TinyStories-656K aborts on `#`);
 * that cannot be caught in JS. In a runner it ends that model's process only: the requests it was
 * running or had queued reject at once with an EngineError that says so, the model counts as
 * unloaded (onModelLost), other models and their requests carry on, and the next request for the
 * model starts a new runner. The price is an IPC hop each way before the first token (together
 * ~1 ms of time to first token on 2 shared cores, mostly the processes' wake-ups), one per streamed
 * batch (the runner coalesces text for up to 10 ms; the first piece goes at once) and one Node
 * process per loaded model.
 */
export class IsolatedEngine implements Engine {
  readonly name = "llama";
  private readonly runners = new Map<string, Runner>();
  private nextId = 1;
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
      device = (await probe.call(probe.runnerFor("(device probe)"), "reporting the device", (id) => ({ t: "device", id }))) as DeviceInfo;
    } finally {
      await probe.close();
    }
    (config.log ?? (() => {}))("info", "engine ready (a runner process per model)", { gpu: device.gpu, threads: config.threads, numParallel: config.numParallel });
    return new IsolatedEngine(config, device);
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const { signal, onText, onThinking, onToolCall, onLogprob, ...rest } = req;
    return this.stream(req, "generating", (id) => ({ t: "generate", id, req: { ...rest, wantLogprobs: onLogprob !== undefined } }), (events) => {
      for (const e of events) {
        if (e.k === "text") onText(e.s);
        else if (e.k === "thinking") onThinking?.(e.s);
        else if (e.k === "tool") onToolCall?.(e.call);
        else onLogprob?.(e.e);
      }
    });
  }

  async complete(req: CompleteRequest): Promise<GenerateResult> {
    const { signal, onText, onLogprob, ...rest } = req;
    return this.stream(req, "completing", (id) => ({ t: "complete", id, req: { ...rest, wantLogprobs: onLogprob !== undefined } }), (events) => {
      for (const e of events) {
        if (e.k === "text") onText(e.s);
        else if (e.k === "logprob") onLogprob?.(e.e);
      }
    });
  }

  async embed(req: EmbedRequest): Promise<EmbedResult> {
    const { signal, ...rest } = req;
    const runner = await this.acquire(req.entry.name);
    const result = (await this.call(runner, "embedding", (id) => ({ t: "embed", id, req: rest }), signal)) as EmbedResult;
    return { ...result, metrics: { ...result.metrics, load_duration: result.metrics.load_duration + runner.takeSpawnNs() } };
  }

  async ensureLoaded(entry: CatalogEntry, options: ModelOptions): Promise<{ loadDurationNs: number; contextSize: number }> {
    const runner = await this.acquire(entry.name);
    const result = (await this.call(runner, "loading", (id) => ({ t: "load", id, entry, options }))) as { loadDurationNs: number; contextSize: number };
    return { ...result, loadDurationNs: result.loadDurationNs + runner.takeSpawnNs() };
  }

  /** Ends the model's runner once its requests are done. Unknown names are a no-op. */
  async unload(name: string): Promise<void> {
    const runner = this.runners.get(canonicalModelName(name));
    if (runner) await this.retire(runner);
  }

  /** As the probe runner saw it at start. */
  async device(): Promise<DeviceInfo> {
    return this.deviceInfo;
  }

  /** As the runner's LlamaEngine will plan it (the same config), without loading the binding here. */
  planLoad(entry: CatalogEntry, options: ModelOptions): LoadPlan {
    return planLlamaLoad(entry, options, this.config);
  }

  loaded(): string[] {
    return [...this.runners.values()].filter((r) => r.loaded && !r.retiring).map((r) => r.model).sort();
  }

  /** process ids of the runners alive now (for tests and diagnosis) */
  runnerPids(): number[] {
    return [...this.runners.values()].map((r) => r.child.pid!).filter((pid) => pid !== undefined);
  }

  /**
   * Ends every runner: each finishes or aborts (EngineClosedError) its requests as LlamaEngine.close
   * does, disposes its model and exits; one that hangs is killed. Safe to call twice.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await Promise.allSettled([...this.runners.values()].map((runner) => this.retire(runner, true)));
    })();
    return this.closed;
  }

  private async stream(
    req: { entry: CatalogEntry; signal: AbortSignal },
    activity: Activity,
    message: (id: number) => ToRunner,
    onEvents: (events: StreamEvent[]) => void,
  ): Promise<GenerateResult> {
    const runner = await this.acquire(req.entry.name, req.signal);
    const result = (await this.call(runner, activity, message, req.signal, onEvents)) as GenerateResult;
    return { ...result, metrics: { ...result.metrics, load_duration: result.metrics.load_duration + runner.takeSpawnNs() } };
  }

  /** The model's runner, started if there is none; waits for one being retired to be gone first. */
  private async acquire(model: string, signal?: AbortSignal): Promise<Runner> {
    for (;;) {
      if (this.closed) throw new EngineClosedError();
      if (signal?.aborted) throw abortError(signal);
      const runner = this.runners.get(model) ?? this.runnerFor(model);
      if (!runner.retiring) return runner;
      await runner.retiring;
    }
  }

  private runnerFor(model: string): Runner {
    const runner = new Runner(model, this.runnerConfig, (r, m) => this.onMessage(r, m), (r, code, signal) => this.onExit(r, code, signal));
    this.runners.set(model, runner);
    this.log("info", "runner started", { model, pid: runner.child.pid });
    return runner;
  }

  /** Sends one request once the runner is ready; settles with its answer, an abort, or the runner's death. */
  private call(runner: Runner, activity: Activity, message: (id: number) => ToRunner, signal?: AbortSignal, onEvents?: (events: StreamEvent[]) => void): Promise<unknown> {
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      let sent = false;
      const onAbort = () => {
        if (sent) runner.send({ t: "abort", id }); // the runner answers with the partial generation
        else {
          runner.pending.delete(id);
          reject(abortError(signal!));
          this.idle(runner);
        }
      };
      const done = () => signal?.removeEventListener("abort", onAbort);
      runner.pending.set(id, {
        activity,
        signal,
        onEvents,
        resolve: (value) => (done(), resolve(value)),
        reject: (error) => (done(), reject(error)),
      });
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      runner.ready.then(
        () => {
          if (!runner.pending.has(id)) return; // aborted while the runner started
          sent = true;
          runner.send(message(id));
        },
        (error: unknown) => {
          if (runner.pending.delete(id)) (done(), reject(error));
        },
      );
    });
  }

  private onMessage(runner: Runner, message: FromRunner): void {
    if (message.t === "log") {
      this.log(message.level, message.message, { ...message.fields, model: runner.model, runner: runner.child.pid });
      return;
    }
    if (message.t === "ready") return;
    if (message.t === "events") {
      for (const batch of message.batches) runner.pending.get(batch.id)?.onEvents?.(batch.events);
      return;
    }
    const pending = runner.pending.get(message.id);
    if (!pending) return;
    runner.loaded = message.loaded;
    runner.pending.delete(message.id);
    if (message.t === "result") pending.resolve(message.value);
    else pending.reject(fromWire(message.error, pending.signal));
    this.idle(runner);
  }

  private onExit(runner: Runner, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.runners.get(runner.model) === runner) this.runners.delete(runner.model);
    const crashed = !runner.closing;
    const how = signal ?? `exit code ${code}`;
    runner.loaded = false;
    for (const [id, pending] of runner.pending) {
      runner.pending.delete(id);
      pending.reject(
        runner.closing
          ? new EngineClosedError()
          : new EngineError(`the runner of model '${runner.model}' crashed (${how}) while ${pending.activity}; it will be restarted for the next request`),
      );
    }
    runner.drained?.();
    if (!crashed) return;
    this.log("error", "runner crashed", { model: runner.model, pid: runner.child.pid, exit: how, output: runner.stderr.trim().slice(-1000) });
    this.config.onModelLost?.(runner.model, `runner crashed (${how})`);
  }

  /** Ends the runner once it has no requests (at once with `now`: close aborts them in the runner). */
  private retire(runner: Runner, now = false): Promise<void> {
    runner.retiring ??= (async () => {
      if (!now && runner.pending.size > 0) await new Promise<void>((resolve) => (runner.drained = resolve));
      runner.closing = true;
      runner.send({ t: "close" });
      const timer = setTimeout(() => runner.child.kill("SIGKILL"), CLOSE_GRACE_MS);
      await runner.exited;
      clearTimeout(timer);
      this.log("info", "runner ended", { model: runner.model, pid: runner.child.pid });
    })();
    return runner.retiring;
  }

  private idle(runner: Runner): void {
    if (runner.pending.size === 0) runner.drained?.();
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
