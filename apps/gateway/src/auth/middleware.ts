import type { Context, MiddlewareHandler } from "hono";
import { HttpError } from "../errors.ts";
import type { ApiKeyRecord } from "./key-record.ts";
import type { KeyRing } from "./key-ring.ts";

/** The caller a request was authenticated as (undefined when auth is off). */
const callers = new WeakMap<Context, ApiKeyRecord>();

export function callerOf(c: Context): ApiKeyRecord | undefined {
  return callers.get(c);
}

/**
 * Paths open without a key: `/` (clients probe it to see a server is there) and `/api/version`
 * (clients check compatibility before anything else, and it tells nothing a key protects).
 */
function isOpen(c: Context): boolean {
  const method = c.req.method;
  if (method === "OPTIONS") return true;
  if (method !== "GET" && method !== "HEAD") return false;
  return c.req.path === "/" || c.req.path === "/api/version";
}

const MESSAGES = {
  missing: "missing API key: send it as 'Authorization: Bearer KEY'",
  invalid: "invalid API key",
  revoked: "API key revoked",
} as const;

/**
 * `Authorization: Bearer KEY`. No, a wrong or a revoked key is a 401 with `WWW-Authenticate`;
 * the key itself goes nowhere (not in a message, not in the log line).
 */
export function apiKeyAuth(keys: KeyRing): MiddlewareHandler {
  const check: MiddlewareHandler = async (c, next) => {
    if (!(await keys.enabled())) return next();
    const header = c.req.header("authorization");
    const match = header === undefined ? undefined : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    const result = await keys.check(match?.[1]);
    if (!result.ok) throw new HttpError(401, "invalid_api_key", MESSAGES[result.reason], { "WWW-Authenticate": 'Bearer realm="caravan"' });
    callers.set(c, result.record);
    return next();
  };
  // Where auth cannot be on (no keys, no Redis for run-time ones), a request passes without a
  // promise or an async frame of this middleware's for its whole life.
  return (c, next) => (isOpen(c) || keys.neverEnabled ? next() : check(c, next));
}
