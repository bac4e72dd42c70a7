import { Option, type Command } from "commander";
import { Redis } from "ioredis";
import { RedisKeys, type ApiKeyRecord, type KeyLimits } from "@caravan/gateway/auth";
import { action } from "../cli/action.ts";
import { renderTable } from "../format/table.ts";

interface RedisOptions {
  redisUrl?: string;
  prefix?: string;
}

/**
 * `caravan keys create|list|revoke`: API keys managed at run time, straight in the cluster's
 * Redis (REDIS_URL, CARAVAN_REDIS_PREFIX), where every gateway reads them. Whoever can write
 * to that Redis controls the cluster anyway, so this adds no admin endpoint (and no admin key)
 * to the gateways' attack surface.
 */
export function registerKeysCommand(program: Command): void {
  const keys = program.command("keys").description("manage API keys (in the cluster's Redis: REDIS_URL, CARAVAN_REDIS_PREFIX)");
  redisOptions(keys.command("create").description("create an API key and print it (shown once)"))
    .option("--name <name>", "a name to tell the key apart")
    .addOption(new Option("--max-concurrent <n>", "most concurrent requests (0 = unlimited)").argParser(count))
    .addOption(new Option("--rpm <n>", "requests per minute (0 = unlimited)").argParser(count))
    .addOption(new Option("--tpm <n>", "tokens per minute (0 = unlimited)").argParser(count))
    .action(
      action(async (options: RedisOptions & { name?: string; maxConcurrent?: number; rpm?: number; tpm?: number }) => {
        const limits: KeyLimits = {
          ...(options.maxConcurrent !== undefined && { max_concurrent: options.maxConcurrent }),
          ...(options.rpm !== undefined && { rpm: options.rpm }),
          ...(options.tpm !== undefined && { tpm: options.tpm }),
        };
        await withKeys(options, async (store) => {
          const { key, record } = await store.create(options.name, limits);
          process.stdout.write(`${key}\n`);
          process.stderr.write(`created key ${record.id}${record.name ? ` (${record.name})` : ""}; it is not shown again\n`);
        });
      }),
    );
  redisOptions(keys.command("list").description("list API keys (id, name, prefix, limits; never the keys)")).action(
    action(async (options: RedisOptions) => {
      await withKeys(options, async (store) => {
        const rows = (await store.list()).map((r) => [r.id, r.name ?? "", r.prefix, limitsText(r), r.created_at, r.revoked_at ? `revoked ${r.revoked_at}` : "active"]);
        process.stdout.write(renderTable(rows, ["ID", "NAME", "PREFIX", "LIMITS", "CREATED", "STATUS"]));
      });
    }),
  );
  redisOptions(keys.command("revoke").description("revoke an API key at once on every gateway").argument("<id>", "the key's id (or name)")).action(
    action(async (id: string, options: RedisOptions) => {
      return withKeys(options, async (store) => {
        const record = await store.revoke(id);
        if (!record) {
          process.stderr.write(`Error: no key '${id}'\n`);
          return 1;
        }
        process.stdout.write(`revoked ${record.id}\n`);
        return 0;
      });
    }),
  );
}

function redisOptions(command: Command): Command {
  return command
    .addOption(new Option("--redis-url <url>", "the cluster's Redis").env("REDIS_URL"))
    .addOption(new Option("--prefix <prefix>", "the cluster's key prefix").env("CARAVAN_REDIS_PREFIX").default("caravan"));
}

async function withKeys<T>(options: RedisOptions, run: (store: RedisKeys) => Promise<T>): Promise<T> {
  if (!options.redisUrl) throw new Error("REDIS_URL (or --redis-url) is required: run-time keys live in the cluster's Redis");
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 5000, lazyConnect: true });
  try {
    await redis.connect();
    return await run(new RedisKeys(redis, options.prefix ?? "caravan"));
  } finally {
    redis.disconnect();
  }
}

function count(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected an integer ≥ 0, got '${raw}'`);
  return n;
}

function limitsText(record: ApiKeyRecord): string {
  const parts = Object.entries(record.limits).map(([k, v]) => `${k}=${v}`);
  return parts.length > 0 ? parts.join(" ") : "defaults";
}
