import { serverCommand } from "../server/entry-point.ts";
import { logFormatter } from "./log-format.ts";
import { startRedisServer, type LocalRedis } from "./redis-server.ts";
import { SupervisedProcess, type LineSink } from "./supervised-process.ts";

/** Workers drain their running requests on SIGTERM; give them that long before killing. */
const DRAIN_GRACE_MS = 35_000;

export interface ClusterOptions {
  /** how many worker processes */
  workers: number;
  /** the gateway's listen address, host:port */
  host: string;
  /** the models folder every worker serves */
  models: string;
  /** an existing Redis; absent: a private redis-server on a free port */
  redisUrl?: string;
  /** worker i serves its /metrics on metricsPort + i - 1 (0 = off) */
  metricsPort: number;
  /** passed to every process as well */
  env?: NodeJS.ProcessEnv;
  /** print the processes' JSON log lines as they are instead of readable lines */
  rawLogs?: boolean;
}

export interface RunningCluster {
  gatewayUrl: string;
  redisUrl: string;
  /** the private redis-server, when this cluster started one */
  redis: LocalRedis | undefined;
  processes: SupervisedProcess[];
  /** resolves with the exit code the command should end with */
  done: Promise<number>;
  /** drains and stops everything (a second call kills) */
  stop(): Promise<void>;
}

/**
 * `pnpm cluster` / `caravan cluster`: Redis, one gateway and N workers as local processes, their
 * output interleaved with a name in front of each line. What a developer without Docker, the
 * tests and the benchmarks use. A worker that dies is reported and the rest go on (as in a real
 * cluster); if the gateway or Redis dies, everything stops.
 */
export async function startCluster(options: ClusterOptions, sink: LineSink): Promise<RunningCluster> {
  const colour = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const format = logFormatter({ raw: options.rawLogs ?? false, colour });
  const labels = labeller(colour, ["redis", "gateway", ...Array.from({ length: options.workers }, (_, i) => `worker-${i + 1}`)]);
  let redis: LocalRedis | undefined;
  if (!options.redisUrl) redis = await startRedisServer({ onOutput: (line) => sink(`${labels("redis")} ${line}`) });
  const redisUrl = options.redisUrl ?? redis!.url;
  const env = { ...process.env, ...options.env, REDIS_URL: redisUrl, CARAVAN_MODELS: options.models };

  const workers = Array.from({ length: options.workers }, (_, i) => {
    const name = `worker-${i + 1}`;
    const metricsPort = options.metricsPort === 0 ? "0" : String(options.metricsPort + i);
    return new SupervisedProcess({ name, ...serverCommand("worker"), env: { ...env, CARAVAN_WORKER_ID: name, CARAVAN_METRICS_PORT: metricsPort } }, sink, labels(name), format);
  });
  const gateway = new SupervisedProcess({ name: "gateway", ...serverCommand("gateway"), env: { ...env, CARAVAN_HOST: options.host } }, sink, labels("gateway"), format);
  const processes = [gateway, ...workers];

  let stopping: Promise<void> | undefined;
  let exitCode = 0;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  const stop = (): Promise<void> => {
    if (stopping) {
      // asked again while draining: stop waiting
      for (const proc of processes) proc.kill();
      return stopping;
    }
    stopping = (async () => {
      await Promise.all(processes.map((proc) => proc.stop(DRAIN_GRACE_MS)));
      await redis?.stop();
      resolveDone(exitCode);
    })();
    return stopping;
  };

  for (const proc of processes) {
    void proc.exited.then(({ code, signal }) => {
      if (proc.isStopping) return;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (proc === gateway) {
        sink(`${labels("gateway")} exited (${how}): stopping the cluster`);
        exitCode = 1;
        void stop();
      } else {
        const left = workers.filter((w) => w.running).length;
        sink(`${labels(proc.spec.name)} exited (${how}); ${left} worker(s) left`);
      }
    });
  }
  if (redis) {
    void new Promise((resolve) => redis!.child.once("exit", resolve)).then(() => {
      if (stopping) return;
      sink(`${labels("redis")} exited: stopping the cluster`);
      exitCode = 1;
      void stop();
    });
  }
  return { gatewayUrl: `http://${options.host}`, redisUrl, redis, processes, done, stop };
}

/** `[name]` padded to the longest name, coloured when the console is a terminal. */
function labeller(colour: boolean, names: string[]): (name: string) => string {
  const width = Math.max(...names.map((n) => n.length));
  const colours = [36, 35, 32, 33, 34, 31];
  return (name) => {
    const text = `[${name.padEnd(width)}]`;
    return colour ? `\u001b[${colours[names.indexOf(name) % colours.length]}m${text}\u001b[0m` : text;
  };
}
