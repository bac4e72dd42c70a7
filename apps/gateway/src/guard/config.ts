import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError, envDuration, envInt, envString, parseEnv } from "@caravan/protocol";
import { parseKeysFile } from "../auth/key-record.ts";
import { StaticKeys } from "../auth/static-keys.ts";
import type { Ceilings } from "../limits/ceilings.ts";
import type { Quota } from "../limits/limit-store.ts";

const list = () => envString().transform((raw) => (raw === undefined ? [] : raw.split(",").map((s) => s.trim()).filter((s) => s !== "")));

const SecurityEnv = z.object({
  CARAVAN_API_KEYS: list(),
  CARAVAN_API_KEYS_FILE: envString(),
  CARAVAN_ALLOW_OPEN: envString().pipe(z.enum(["0", "1", "true", "false"], { error: "must be 1 or 0" }).optional()),
  CARAVAN_KEY_MAX_CONCURRENT: envInt(0, 0),
  CARAVAN_KEY_RPM: envInt(0, 0),
  CARAVAN_KEY_TPM: envInt(0, 0),
  CARAVAN_MAX_BODY_BYTES: envInt(1, 8 * 1024 * 1024),
  CARAVAN_HEADERS_TIMEOUT: envDuration("30s"),
  CARAVAN_REQUEST_TIMEOUT: envDuration("60s"),
  CARAVAN_MAX_NUM_PREDICT: envInt(0, 0),
  CARAVAN_MAX_NUM_CTX: envInt(0, 0),
  CARAVAN_MAX_MESSAGES: envInt(0, 1000),
  CARAVAN_ORIGINS: list(),
  CARAVAN_ALLOWED_HOSTS: list(),
});

/** Who may call, how much, and what the HTTP layer refuses outright. */
export interface SecurityConfig {
  /** CARAVAN_API_KEYS and the keys file, hashed as soon as read */
  apiKeys: StaticKeys;
  /** serve without keys on a non-loopback address */
  allowOpen: boolean;
  /** each key's limits unless its record says otherwise (0 = unlimited) */
  keyDefaults: Quota;
  maxBodyBytes: number;
  /** Node's headersTimeout and requestTimeout: how long a client may take to send its headers, its whole request */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  ceilings: Ceilings;
  /** CORS origins besides the defaults */
  origins: string[];
  /** Host headers accepted besides the local ones while bound to loopback */
  allowedHosts: string[];
}

export function loadSecurityConfig(env: Record<string, string | undefined>): SecurityConfig {
  const parsed = parseEnv(SecurityEnv, env);
  const keys = parsed.CARAVAN_API_KEYS.map((key, i) => ({ key, id: `env-${i + 1}` }));
  if (parsed.CARAVAN_API_KEYS.some((key) => key.length < 8)) throw new ConfigError("invalid configuration: CARAVAN_API_KEYS: each key must be at least 8 characters");
  if (parsed.CARAVAN_API_KEYS_FILE) {
    let text: string;
    try {
      text = readFileSync(parsed.CARAVAN_API_KEYS_FILE, "utf8");
    } catch (error) {
      throw new ConfigError(`invalid configuration: CARAVAN_API_KEYS_FILE: cannot read ${parsed.CARAVAN_API_KEYS_FILE}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    try {
      parseKeysFile(text).forEach((entry, i) => keys.push({ ...entry, id: entry.name ?? `file-${i + 1}` }));
    } catch (error) {
      throw new ConfigError(`invalid configuration: CARAVAN_API_KEYS_FILE: ${(error as Error).message}`);
    }
  }
  if (parsed.CARAVAN_HEADERS_TIMEOUT > parsed.CARAVAN_REQUEST_TIMEOUT) {
    throw new ConfigError("invalid configuration: CARAVAN_HEADERS_TIMEOUT: must not be longer than CARAVAN_REQUEST_TIMEOUT");
  }
  return {
    apiKeys: new StaticKeys(keys),
    allowOpen: parsed.CARAVAN_ALLOW_OPEN === "1" || parsed.CARAVAN_ALLOW_OPEN === "true",
    keyDefaults: { maxConcurrent: parsed.CARAVAN_KEY_MAX_CONCURRENT, rpm: parsed.CARAVAN_KEY_RPM, tpm: parsed.CARAVAN_KEY_TPM },
    maxBodyBytes: parsed.CARAVAN_MAX_BODY_BYTES,
    headersTimeoutMs: parsed.CARAVAN_HEADERS_TIMEOUT,
    requestTimeoutMs: parsed.CARAVAN_REQUEST_TIMEOUT,
    ceilings: { maxNumPredict: parsed.CARAVAN_MAX_NUM_PREDICT, maxNumCtx: parsed.CARAVAN_MAX_NUM_CTX, maxMessages: parsed.CARAVAN_MAX_MESSAGES },
    origins: parsed.CARAVAN_ORIGINS,
    allowedHosts: parsed.CARAVAN_ALLOWED_HOSTS,
  };
}
