import { mkdtemp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startRedisCluster, type Deployment } from "./cluster.ts";
import { ndjsonLines, postJson } from "./ndjson.ts";
import { promValue } from "./otlp.ts";
import { MODELS_DIR, type CaravanProcess } from "./processes.ts";

/**
 * Helpers for end-to-end scenarios about residency, backpressure and worker loss: several model
 * names on one tiny file, /api/ps polling, streams read in the background, and the gateway's and
 * each worker's /metrics: what a worker did is read there, not from its log.
 */

/** A temporary models folder where each name is a symlink to stories260K.gguf: distinct models, tiny real weights. */
export async function tempModelsDir(names: readonly string[] = ["alpha", "beta", "gamma"]): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "caravan-models-"));
  for (const name of names) await symlink(path.join(MODELS_DIR, "stories260K.gguf"), path.join(dir, `${name}.gguf`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The canonical name caravan serves `NAME.gguf` as. */
export const canonical = (name: string) => `${name.toLowerCase()}:latest`;

export interface PsModel {
  name: string;
  model: string;
  size: number;
  digest: string;
  details: unknown;
  expires_at: string;
  size_vram: number;
  context_length: number;
  worker: string;
  busy: number;
  slots: number;
}
export interface PsQueue {
  model: string;
  waiting: number;
  oldest_wait_ms: number;
}
export interface Ps {
  models: PsModel[];
  queues: PsQueue[];
}

export async function getPs(url: string): Promise<Ps> {
  const response = await fetch(`${url}/api/ps`);
  if (response.status !== 200) throw new Error(`GET /api/ps answered ${response.status}`);
  return (await response.json()) as Ps;
}

/** The copies of `name` (a short name like "alpha") that /api/ps lists. */
export const copiesOf = (ps: Ps, name: string) => ps.models.filter((m) => m.name === canonical(name));

/**
 * Polls `read` until `accept` holds, and returns that value. Worker state reaches the gateways by
 * heartbeat (and each gateway caches it for about a second), so cluster views lag a little.
 */
export async function pollUntil<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs: number, what: string, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await sleep(everyMs);
  }
}

export const waitForPs = (url: string, accept: (ps: Ps) => boolean, timeoutMs: number, what: string) => pollUntil(() => getPs(url), accept, timeoutMs, what);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A user message and greedy sampling that stops after `num_predict` tokens (stories260K never stops on its own). */
export function chatBody(name: string, numPredict: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: name, messages: [{ role: "user", content: "Once upon a time" }], options: { temperature: 0, num_predict: numPredict }, ...extra };
}

/** stream:false: the status and the parsed body, whatever the status. */
export async function chatOnce(url: string, body: Record<string, unknown>, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await postJson(`${url}/api/chat`, { stream: false, ...body }, init);
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

export interface TimedLine {
  /** Date.now() when the line was read */
  at: number;
  line: Record<string, unknown>;
}

/**
 * A streamed /api/chat response read in the background as it arrives: tests can wait for its
 * first chunk, act (kill a worker, send more requests), then wait for its end.
 */
export class ChatStream {
  readonly lines: TimedLine[] = [];
  /** resolves with every line once the body ends; rejects if reading it fails */
  readonly ended: Promise<TimedLine[]>;
  endedAt: number | undefined;
  private readonly watchers = new Set<() => void>();

  private constructor(readonly response: Response) {
    this.ended = (async () => {
      try {
        for await (const line of ndjsonLines(response)) {
          this.lines.push({ at: Date.now(), line });
          for (const watcher of this.watchers) watcher();
        }
        return this.lines;
      } finally {
        this.endedAt = Date.now();
        for (const watcher of this.watchers) watcher();
      }
    })();
    this.ended.catch(() => undefined); // surfaced to whoever awaits it
  }

  /** Sends the request; resolves once the gateway answered with its status (after the job's first event). */
  static async open(url: string, body: Record<string, unknown>, init: RequestInit = {}): Promise<ChatStream> {
    const response = await postJson(`${url}/api/chat`, { stream: true, ...body }, init);
    if (response.status !== 200) throw new Error(`stream answered ${response.status}: ${await response.text()}`);
    return new ChatStream(response);
  }

  /** Resolves with the first line (past or future) that matches; rejects if the stream ends first or after `timeoutMs`. */
  waitFor(match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<TimedLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find((l) => match(l.line));
        if (found) return finish(() => resolve(found));
        if (this.endedAt !== undefined) return finish(() => reject(new Error(`stream ended without the line; lines: ${this.describe()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no matching line within ${timeoutMs} ms; lines: ${this.describe()}`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.watchers.delete(check);
        settle();
      };
      this.watchers.add(check);
      check();
    });
  }

  /** The text streamed so far. */
  content(): string {
    return this.lines.map((l) => (l.line.message as { content?: string } | undefined)?.content ?? "").join("");
  }

  /** The last few lines, for failure messages. */
  describe(): string {
    return `${this.lines.length} line(s), last: ${JSON.stringify(this.lines.slice(-3).map((l) => l.line))}`;
  }
}

/** The worker process a worker id from /api/ps names (the harness names them worker-1, worker-2, …). */
export function workerById(deployment: Deployment, workerId: string): CaravanProcess {
  const index = Number(/^worker-(\d+)$/.exec(workerId)?.[1]) - 1;
  const proc = deployment.workers[index];
  if (!proc) throw new Error(`no worker process for ${workerId}`);
  return proc;
}

/** Resolves with the exit code (null when a signal ended it) and the signal. */
export function waitForExit(proc: CaravanProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/**
 * Marks a worker killed by a signal as stopped for the deployment's stop(): the harness's stop()
 * waits for an "exit" event, which such a process (exitCode null) has already emitted, so it
 * would hang. The entry keeps its place, so worker ids still map to indexes.
 */
export function forgetKilledWorker(deployment: Deployment, proc: CaravanProcess): void {
  const index = deployment.workers.indexOf(proc);
  if (index !== -1) deployment.workers[index] = { ...proc, stop: async () => proc.child.exitCode };
}

/** Requests waiting for `name` (a short name like "alpha") in /api/ps's queues. */
export const waitingFor = (ps: Ps, name: string) => ps.queues.find((q) => q.model === canonical(name))?.waiting ?? 0;

export type ModelsCluster = Awaited<ReturnType<typeof startRedisCluster>>;

/**
 * A Redis cluster (1 gateway unless told) serving a fresh temp models folder (alpha, beta,
 * gamma); its stop() also removes the folder. `url` is the first gateway's.
 */
export async function startModelsCluster(options: { gateways?: number; workers: number; env?: Record<string, string> }): Promise<{ cluster: ModelsCluster; url: string }> {
  const models = await tempModelsDir();
  const cluster = await startRedisCluster({ gateways: options.gateways ?? 1, workers: options.workers, env: { CARAVAN_MODELS: models.dir, ...options.env } });
  const stop = cluster.stop;
  cluster.stop = async () => {
    await stop();
    await models.remove();
  };
  return { cluster, url: cluster.gatewayUrls[0]! };
}

/** A metric in Prometheus text at `metricsUrl`, summed over the series whose labels match (0 when none). */
export async function metricAt(metricsUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const response = await fetch(metricsUrl);
  if (response.status !== 200) throw new Error(`GET ${metricsUrl} answered ${response.status}`);
  return promValue(await response.text(), name, labels);
}

/** A metric of each worker, in the order of `workers` (e.g. model loads, tokens generated); `only` picks some of them (a stopped worker has none). */
export const workerMetric = (deployment: Deployment, name: string, labels: Record<string, string> = {}, only: CaravanProcess[] = deployment.workers) =>
  Promise.all(only.map((worker) => metricAt(deployment.workerMetricsUrls[deployment.workers.indexOf(worker)]!, name, labels)));

/** The model label a worker's and a gateway's metrics carry, for a short name like "alpha". */
export const modelLabel = (name: string) => ({ gen_ai_request_model: canonical(name) });

/** Output tokens the workers (or `only` some) generated for `name`, in all; a stopped generation counts what it made, when it stopped. */
export const tokensGenerated = async (deployment: Deployment, name: string, only?: CaravanProcess[]) =>
  (await workerMetric(deployment, "caravan_tokens_generated_total", modelLabel(name), only)).reduce((a, b) => a + b, 0);

/**
 * Waits for a generation of `name` that had produced text to end on its worker, and resolves
 * with its tokens. A worker counts a job's tokens when the job ends (done, or stopped), so the
 * count passing `before` (read before the request) is that event.
 */
export async function generationEnded(deployment: Deployment, name: string, before: number, timeoutMs: number): Promise<number> {
  const after = await pollUntil(() => tokensGenerated(deployment, name), (n) => n > before, timeoutMs, `the generation of ${name} to end on its worker`);
  return after - before;
}
