import { spawn, type ChildProcess } from "node:child_process";
import { serverCommand, type ServerKind } from "@caravan/cli";
import { freePort } from "../../harness/ports.ts";
import { startRedis, type TestRedis } from "../../harness/redis.ts";

export const SIM_MODEL = "sim-bench";

export interface SimCluster {
  url: string;
  /** the gateway's process (with `single`, the one process) */
  gatewayPid: number;
  /** none with `single` */
  workerPids: number[];
  /** none with `single` */
  redis?: TestRedis;
  stop(): Promise<void>;
}

export interface SimClusterOptions {
  /** ignored with `single` (one worker, in the gateway's process) */
  workers: number;
  /** gateway and worker in one process over the in-memory transport (`pnpm start`), no Redis */
  single?: boolean;
  /** sequences per worker */
  numParallel: number;
  tokensPerSecond?: number;
  /** tokens carry their generation time */
  stamp?: boolean;
  env?: Record<string, string>;
  /** node flags for every caravan process (before BENCH_NODE_ARGS's) */
  nodeArgs?: string[];
}

/**
 * One gateway and N workers with the SIMULATED engine over a private redis-server (or, with
 * `single`, one process as `pnpm start` runs it), logging at warn only (an info line per job would
 * put the benchmark's own log handling into the figures). Resolves once the gateway lists the
 * model (a worker is up); warm() then loads it on every worker.
 */
export async function startSimCluster(options: SimClusterOptions): Promise<SimCluster> {
  const redis = options.single ? undefined : await startRedis();
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...(redis && { REDIS_URL: redis.url }),
    CARAVAN_REDIS_PREFIX: `bench-${process.pid}`,
    CARAVAN_LOG_LEVEL: "warn",
    CARAVAN_ENGINE: "simulated",
    CARAVAN_SIM_MODELS: SIM_MODEL,
    CARAVAN_SIM_TOKENS_PER_SECOND: String(options.tokensPerSecond ?? 50),
    CARAVAN_SIM_LOAD_MS: "100",
    CARAVAN_SIM_MODEL_BYTES: "1GiB",
    CARAVAN_SIM_STAMP: options.stamp ? "1" : "0",
    CARAVAN_NUM_PARALLEL: String(options.numParallel),
    CARAVAN_MEMORY_BUDGET: "8GiB",
    CARAVAN_KEEP_ALIVE: "-1",
    // the benchmark drives more streams than the default bounds admit; a load goes to an idle worker as soon as a request waits
    CARAVAN_MAX_QUEUE: "100000",
    CARAVAN_SPILL_BACKLOG: "0",
    CARAVAN_METRICS_PORT: "0",
    ...options.env,
  };
  const children: ChildProcess[] = [];
  // BENCH_PROFILE_DIR=DIR: every caravan process (or only the gateway or the workers, with
  // BENCH_PROFILE=gateway|worker: profiling slows a process, and 16 profiled workers distort
  // what they share the machine with) writes a V8 CPU profile there when it stops (node refuses
  // --cpu-prof in NODE_OPTIONS, so it goes on the command line).
  const profiled = (kind: ServerKind) => process.env.BENCH_PROFILE_DIR && (!process.env.BENCH_PROFILE || kind === process.env.BENCH_PROFILE);
  // BENCH_NODE_ARGS: node/V8 flags for the caravan processes (trying a tuning, tracing GC);
  // their stdout, where V8's traces go, then reaches the benchmark's
  const benchNodeArgs = process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const nodeArgs = [...(options.nodeArgs ?? []), ...benchNodeArgs];
  const stdout = benchNodeArgs.length > 0 ? "inherit" : "ignore";
  const start = (kind: ServerKind, extra: Record<string, string>) => {
    const profile = profiled(kind) ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    const { command, args, cwd } = serverCommand(kind, [...profile, ...nodeArgs]);
    const child = spawn(command, args, { cwd, env: { ...env, ...extra }, stdio: ["ignore", stdout, "pipe"] });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.once("exit", (code, signal) => {
      if (!stopping && (code !== 0 || signal)) console.error(`[bench] ${kind} exited (${code ?? signal}): ${stderr}`);
    });
    children.push(child);
    return child;
  };
  let stopping = false;
  const port = await freePort();
  const gateway = start(options.single ? "serve" : "gateway", { CARAVAN_HOST: `127.0.0.1:${port}` });
  const workers = options.single ? [] : Array.from({ length: options.workers }, (_, i) => start("worker", { CARAVAN_WORKER_ID: `sim-${i + 1}` }));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    // Ready when the gateway sees a worker serving the model, not merely when it answers: a
    // gateway that starts before its workers would answer the first requests 503.
    const listed = await fetch(`${url}/api/tags`).then(
      async (r) => r.ok && ((await r.json()) as { models: Array<{ model: string }> }).models.some((m) => m.model.startsWith(`${SIM_MODEL}:`)),
      () => false,
    );
    if (listed) break;
    if (Date.now() > deadline) throw new Error(`the gateway did not list ${SIM_MODEL} within 120 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    gatewayPid: gateway.pid!,
    workerPids: workers.map((w) => w.pid!),
    redis,
    async stop() {
      stopping = true;
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
              child.once("exit", () => {
                clearTimeout(kill);
                resolve();
              });
              child.kill("SIGTERM");
            }),
        ),
      );
      await redis?.stop();
    },
  };
}

/** Copies of the simulated model per worker, from /api/ps (each entry says engine "simulated"). */
export async function loadedCopies(url: string): Promise<Array<{ worker: string; engine: string }>> {
  const ps = (await (await fetch(`${url}/api/ps`)).json()) as { models: Array<{ worker: string; engine: string }> };
  return ps.models;
}

/**
 * Loads the model on all `workers`: bursts of requests that each hold a sequence for a while,
 * more than the loaded copies have sequences, until /api/ps shows a copy on each (the gateway
 * loads another copy where none is when requests wait: CARAVAN_SPILL_BACKLOG=0).
 */
export async function warm(url: string, workers: number, burst: number, request: (n: number) => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const copies = await loadedCopies(url);
    if (new Set(copies.map((c) => c.worker)).size >= workers) return;
    if (Date.now() > deadline) throw new Error(`only ${copies.length} of ${workers} workers loaded the model within 120 s`);
    await Promise.all(Array.from({ length: burst }, (_, i) => request(i)));
  }
}
