import { hashKey, type ApiKeyRecord } from "./key-record.ts";
import type { RedisKeys } from "./redis-keys.ts";
import type { StaticKeys } from "./static-keys.ts";

/** How long "does the cluster have run-time keys at all" is remembered. */
const COUNT_CACHE_MS = 1000;

export type KeyCheck = { ok: true; record: ApiKeyRecord } | { ok: false; reason: "missing" | "invalid" | "revoked" };

/**
 * Every key the gateway accepts: the static ones and, over Redis, the run-time ones. Auth is on
 * as soon as either has a key (a cluster whose keys were all revoked stays closed).
 */
export class KeyRing {
  private countCache: { at: number; count: Promise<number> } | undefined;

  constructor(
    readonly fixed: StaticKeys,
    readonly managed?: RedisKeys,
  ) {}

  /** No key is fixed and none can be added at run time: auth is off for this gateway's life. */
  get neverEnabled(): boolean {
    return this.fixed.size === 0 && !this.managed;
  }

  async enabled(): Promise<boolean> {
    if (this.fixed.size > 0) return true;
    if (!this.managed) return false;
    const now = Date.now();
    if (!this.countCache || now - this.countCache.at > COUNT_CACHE_MS) {
      const count = this.managed.count();
      this.countCache = { at: now, count };
      count.catch(() => (this.countCache = undefined));
    }
    return (await this.countCache.count) > 0;
  }

  async check(presented: string | undefined): Promise<KeyCheck> {
    if (presented === undefined || presented === "") return { ok: false, reason: "missing" };
    const digest = hashKey(presented);
    const record = this.fixed.find(digest) ?? (await this.managed?.find(digest));
    if (!record) return { ok: false, reason: "invalid" };
    if (record.revoked_at) return { ok: false, reason: "revoked" };
    return { ok: true, record };
  }
}
