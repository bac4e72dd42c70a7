import { freePort } from "./ports.ts";
import { MODELS_DIR, startCaravan, type CaravanProcess } from "./processes.ts";
import { startRedis, type TestRedis } from "./redis.ts";

/** A running caravan deployment under test: gateway URLs and the processes doing the work. */
export interface Deployment {
  name: string;
  gatewayUrls: string[];
  /** processes that run jobs (the single process, or the worker processes) */
  workers: CaravanProcess[];
  /**
   * each worker's GET /metrics, in the order of `workers` (the single process serves the
   * worker's metrics on its gateway's port): what a worker did (loads, tokens) is read there
   */
  workerMetricsUrls: string[];
  stop(): Promise<void>;
}

const COMMON_ENV = { CARAVAN_MODELS: MODELS_DIR, CARAVAN_THREADS: "1", CARAVAN_NUM_PARALLEL: "4" };

/** `pnpm start`: one process, in-memory transport, no Redis. */
export async function startSingleProcess(env: Record<string, string> = {}): Promise<Deployment> {
  const port = await freePort();
  const proc = await startCaravan("single", { ...COMMON_ENV, CARAVAN_HOST: `127.0.0.1:${port}`, REDIS_URL: "", ...env });
  return { name: "in-process", gatewayUrls: [`http://127.0.0.1:${port}`], workers: [proc], workerMetricsUrls: [`http://127.0.0.1:${port}/metrics`], stop: async () => void (await proc.stop()) };
}

/** `pnpm start:gateway` ×G and `pnpm start:worker` ×W against a private redis-server. */
export async function startRedisCluster(options: {
  gateways: number;
  workers: number;
  env?: Record<string, string>;
  /** extra environment of worker `index` (0-based), e.g. its own CARAVAN_MODELS */
  workerEnv?: (index: number) => Record<string, string>;
}): Promise<Deployment & { redis: TestRedis; gateways: CaravanProcess[] }> {
  const redis = await startRedis();
  const env = { ...COMMON_ENV, REDIS_URL: redis.url, CARAVAN_REDIS_PREFIX: `test-${process.pid}`, ...options.env };
  // Each worker serves /metrics on a port of its own (unless the test sets one), not all on 9464.
  const ports: number[] = [];
  while (ports.length < options.workers) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  const workerEnvs = ports.map((port, i) => ({ CARAVAN_METRICS_PORT: String(port), ...env, CARAVAN_WORKER_ID: `worker-${i + 1}`, ...options.workerEnv?.(i) }));
  const workers = await Promise.all(workerEnvs.map((workerEnv) => startCaravan("worker", workerEnv)));
  const gateways: CaravanProcess[] = [];
  const gatewayUrls: string[] = [];
  for (let i = 0; i < options.gateways; i++) {
    const port = await freePort();
    gateways.push(await startCaravan("gateway", { ...env, CARAVAN_HOST: `127.0.0.1:${port}` }));
    gatewayUrls.push(`http://127.0.0.1:${port}`);
  }
  return {
    name: "redis",
    redis,
    gateways,
    gatewayUrls,
    workers,
    workerMetricsUrls: workerEnvs.map((workerEnv) => `http://127.0.0.1:${workerEnv.CARAVAN_METRICS_PORT}/metrics`),
    stop: async () => {
      await Promise.allSettled([...gateways, ...workers].map((p) => p.stop()));
      await redis.stop();
    },
  };
}
