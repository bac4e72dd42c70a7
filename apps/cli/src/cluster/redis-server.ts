import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { freePort } from "./free-port.ts";

export interface LocalRedis {
  url: string;
  port: number;
  child: ChildProcess;
  /** SIGTERM and wait for the exit; idempotent */
  stop(): Promise<void>;
}

/**
 * A private `redis-server` on a free loopback port with nothing persisted: the local cluster's
 * (and the tests') own Redis, never the machine's. Resolves once it answers PING.
 */
export async function startRedisServer(options: { port?: number; onOutput?: (line: string) => void } = {}): Promise<LocalRedis> {
  const port = options.port ?? (await freePort());
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", options.onOutput ? "pipe" : "ignore", options.onOutput ? "pipe" : "ignore"],
    // its own process group: a Ctrl+C meant for the parent must not stop it before the processes using it
    detached: true,
  });
  const spawnFailed = new Promise<never>((_, reject) => child.once("error", (error) => reject(new Error(`cannot start redis-server: ${error.message}`))));
  spawnFailed.catch(() => {});
  if (options.onOutput) {
    for (const stream of [child.stdout!, child.stderr!]) stream.setEncoding("utf8").on("data", (data: string) => data.split("\n").filter(Boolean).forEach(options.onOutput!));
  }
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined); // refused until the server is up: expected while probing
    try {
      await Promise.race([probe.connect().then(() => probe.ping()), spawnFailed]);
      probe.disconnect();
      break;
    } catch (error) {
      probe.disconnect();
      if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null) {
        child.kill("SIGKILL");
        throw new Error(`redis-server did not start on port ${port}: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    child,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      })),
  };
}
