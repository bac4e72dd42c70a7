import type { Context, MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../deps.ts";
import { HttpError } from "../errors.ts";
import type { KeyRing } from "./key-ring.ts";

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
export function apiKeyAuth(keys: KeyRing): MiddlewareHandler<GatewayEnv> {
  const check: MiddlewareHandler<GatewayEnv> = async (c, next) => {
    if (!(await keys.enabled())) return next();
    const header = c.req.header("authorization");
    const match = header === undefined ? undefined : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    const result = await keys.check(match?.[1]);
    if (!result.ok) throw new HttpError(401, "invalid_api_key", MESSAGES[result.reason], { "WWW-Authenticate": 'Bearer realm="caravan"' });
    c.set("caller", result.record);
    return next();
  };
  // Where auth cannot be on (no keys, no Redis for run-time ones), a request passes without a
  // promise or an async frame of this middleware's for its whole life.
  return (c, next) => (isOpen(c) || keys.neverEnabled ? next() : check(c, next));
}
