import { digestMatches, keyPrefix, hashKey, type ApiKeyRecord, type KeyLimits } from "./key-record.ts";

/**
 * Keys fixed at start: CARAVAN_API_KEYS and the keys file. Only their digests are kept. A
 * lookup compares against every key, each in constant time, so its duration does not depend on
 * which key (if any) matched.
 */
export class StaticKeys {
  private readonly records: ApiKeyRecord[];

  constructor(keys: readonly { key: string; name?: string; limits?: KeyLimits; id?: string }[]) {
    const created_at = new Date().toISOString();
    this.records = keys.map((k, i) => ({
      id: k.id ?? k.name ?? `key-${i + 1}`,
      ...(k.name && { name: k.name }),
      prefix: keyPrefix(k.key),
      hash: hashKey(k.key).toString("hex"),
      created_at,
      limits: k.limits ?? {},
    }));
  }

  get size(): number {
    return this.records.length;
  }

  find(digest: Buffer): ApiKeyRecord | undefined {
    let found: ApiKeyRecord | undefined;
    for (const record of this.records) if (digestMatches(digest, record.hash) && !found) found = record;
    return found;
  }

  list(): ApiKeyRecord[] {
    return [...this.records];
  }
}
