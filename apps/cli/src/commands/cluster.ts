import type { Command } from "commander";
import { startCluster } from "../cluster/index.ts";
import { positiveInt, portNumber } from "./parse.ts";

/** `caravan cluster`: the local multi-process cluster (what `pnpm cluster` runs). */
export function registerClusterCommand(program: Command): void {
  program
    .command("cluster")
    .description("run Redis, a gateway and N workers as local processes (Ctrl+C stops them all)")
    .option("-w, --workers <n>", "worker processes", positiveInt, Number(process.env.CARAVAN_CLUSTER_WORKERS ?? 2))
    .option("--host <host:port>", "the gateway's address", process.env.CARAVAN_HOST ?? "127.0.0.1:11434")
    .option("--models <dir>", "models folder every worker serves", process.env.CARAVAN_MODELS ?? "./models")
    .option("--redis <url>", "use this Redis instead of starting a private redis-server", process.env.REDIS_URL || undefined)
    .option("--metrics-port <port>", "first worker's /metrics port (the next ones count up; 0 = off)", portNumber, Number(process.env.CARAVAN_METRICS_PORT ?? 9464))
    .option("--json-logs", "print the processes' log lines as JSON, unformatted")
    .action(async (opts: { workers: number; host: string; models: string; redis?: string; metricsPort: number; jsonLogs?: boolean }) => {
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const cluster = await startCluster({ workers: opts.workers, host: opts.host, models: opts.models, redisUrl: opts.redis, metricsPort: opts.metricsPort, rawLogs: opts.jsonLogs }, say);
      say(`caravan cluster: gateway ${cluster.gatewayUrl}, ${opts.workers} worker(s), Redis ${cluster.redisUrl}. Ctrl+C stops everything (twice: at once).`);
      for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.on(signal, () => {
          say(`caravan cluster: ${signal}, stopping…`);
          void cluster.stop();
        });
      }
      process.exitCode = await cluster.done;
    });
}
