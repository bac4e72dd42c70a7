import type { Redis } from "ioredis";
import { overRedis } from "@caravan/transport";
import { digestMatches, generateKey, newRecord, type ApiKeyRecord, type KeyLimits } from "./key-record.ts";

/**
 * Keys managed at run time (`caravan keys create|list|revoke`), in Redis so every gateway sees
 * them at once: a hash `PREFIX:apikeys` of id → record (JSON, with the key's sha256, never the
 * key) and `PREFIX:apikey-hash:SHA256` → id for the lookup. A revoked key keeps its record
 * (revoked_at set) so `list` still shows it and a request with it is told it was revoked.
 * Redis being unreachable is the transport's TransportUnavailableError (overRedis).
 */
export class RedisKeys {
  private readonly recordsKey: string;
  private readonly byHashPrefix: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.recordsKey = `${prefix}:apikeys`;
    this.byHashPrefix = `${prefix}:apikey-hash:`;
  }

  /** Creates a key; the only time the key itself is seen. */
  async create(name: string | undefined, limits: KeyLimits): Promise<{ key: string; record: ApiKeyRecord }> {
    const { key, id } = generateKey();
    const record = newRecord(key, id, name, limits);
    await overRedis(this.redis.multi().hset(this.recordsKey, id, JSON.stringify(record)).set(this.byHashPrefix + record.hash, id).exec());
    return { key, record };
  }

  async list(): Promise<ApiKeyRecord[]> {
    const all = await overRedis(this.redis.hgetall(this.recordsKey));
    return Object.values(all)
      .flatMap((raw) => parseRecord(raw))
      .sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  /** Marks the key revoked (by id or name); false when there is no such key. */
  async revoke(idOrName: string): Promise<ApiKeyRecord | undefined> {
    const record = (await this.list()).find((r) => r.id === idOrName) ?? (await this.list()).find((r) => r.name === idOrName);
    if (!record) return undefined;
    const revoked = { ...record, revoked_at: record.revoked_at ?? new Date().toISOString() };
    await overRedis(this.redis.hset(this.recordsKey, record.id, JSON.stringify(revoked)));
    return revoked;
  }

  async count(): Promise<number> {
    return overRedis(this.redis.hlen(this.recordsKey));
  }

  async find(digest: Buffer): Promise<ApiKeyRecord | undefined> {
    const id = await overRedis(this.redis.get(this.byHashPrefix + digest.toString("hex")));
    if (!id) return undefined;
    const record = parseRecord(await overRedis(this.redis.hget(this.recordsKey, id)))[0];
    return record && digestMatches(digest, record.hash) ? record : undefined;
  }
}

function parseRecord(raw: string | null | undefined): ApiKeyRecord[] {
  if (!raw) return [];
  try {
    const record = JSON.parse(raw) as ApiKeyRecord;
    return typeof record.id === "string" && typeof record.hash === "string" ? [record] : [];
  } catch {
    return [];
  }
}
