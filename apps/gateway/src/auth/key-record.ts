import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Per-key overrides of the default limits (0 = unlimited; absent = the server's default). */
export interface KeyLimits {
  max_concurrent?: number;
  rpm?: number;
  tpm?: number;
}

/**
 * What caravan keeps about an API key: never the key itself, only its sha256 (the keys caravan
 * generates carry 256 random bits, so a fast hash is enough) and its first characters, so that
 * an operator can tell keys apart.
 */
export interface ApiKeyRecord {
  id: string;
  name?: string;
  /** the key's first characters, for display */
  prefix: string;
  /** sha256 of the key, hex */
  hash: string;
  created_at: string;
  revoked_at?: string;
  limits: KeyLimits;
}

/** The key's sha256 digest. */
export function hashKey(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}

/** Constant-time comparison of a presented key's digest with a stored one (hex). */
export function digestMatches(presented: Buffer, storedHex: string): boolean {
  const stored = Buffer.from(storedHex, "hex");
  return stored.length === presented.length && timingSafeEqual(stored, presented);
}

/** A fresh key: `cvn_` and 32 random bytes (base64url), with its id. */
export function generateKey(): { key: string; id: string } {
  return { key: `cvn_${randomBytes(32).toString("base64url")}`, id: randomBytes(6).toString("hex") };
}

/** How a key is shown: its first characters only (at most 8, never more than half of it). */
export function keyPrefix(key: string): string {
  return `${key.slice(0, Math.min(8, Math.floor(key.length / 2)))}…`;
}

export function newRecord(key: string, id: string, name: string | undefined, limits: KeyLimits): ApiKeyRecord {
  return { id, ...(name && { name }), prefix: keyPrefix(key), hash: hashKey(key).toString("hex"), created_at: new Date().toISOString(), limits };
}

const LIMIT_NAMES = ["max_concurrent", "rpm", "tpm"] as const;

/**
 * Reads a keys file: one key per line, then optionally a name and limit overrides, separated by
 * spaces — `KEY [NAME] [max_concurrent=N] [rpm=N] [tpm=N]`. Blank lines and `#` comments are
 * skipped. Throws (with the line number, never the key) on a malformed line.
 */
export function parseKeysFile(text: string): { key: string; name?: string; limits: KeyLimits }[] {
  const entries: { key: string; name?: string; limits: KeyLimits }[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const [key, ...rest] = trimmed.split(/\s+/);
    let name: string | undefined;
    const limits: KeyLimits = {};
    for (const word of rest) {
      const eq = word.indexOf("=");
      if (eq === -1) {
        if (name !== undefined) throw new Error(`line ${index + 1}: more than one name`);
        name = word;
        continue;
      }
      const field = word.slice(0, eq) as (typeof LIMIT_NAMES)[number];
      const value = Number(word.slice(eq + 1));
      if (!LIMIT_NAMES.includes(field) || !Number.isInteger(value) || value < 0) {
        throw new Error(`line ${index + 1}: '${word.slice(0, eq)}' must be one of ${LIMIT_NAMES.join(", ")} with an integer ≥ 0`);
      }
      limits[field] = value;
    }
    if (key!.length < 8) throw new Error(`line ${index + 1}: a key must be at least 8 characters`);
    entries.push({ key: key!, ...(name && { name }), limits });
  });
  return entries;
}
