import { isIP } from "node:net";
import { hostname as machineName } from "node:os";
import type { MiddlewareHandler } from "hono";
import { HttpError } from "../errors.ts";

/** Whether `host` (a listen address) is this machine only. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127\./.test(bare);
}

/** A Host header without its port (and brackets), lower case. */
export function hostOnly(header: string): string {
  const text = header.trim().toLowerCase();
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(text);
  if (bracketed) return bracketed[1]!;
  const colon = text.lastIndexOf(":");
  return colon !== -1 && text.indexOf(":") === colon ? text.slice(0, colon) : text;
}

function isLocalAddress(ip: string): boolean {
  if (isIP(ip) === 0) return false;
  if (ip === "::1" || ip === "::" || ip === "0.0.0.0" || /^127\./.test(ip)) return true;
  // private ranges: a rebinding attack needs a name, an address literal is the user's own choice
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(ip) || /^f[cd]/.test(ip) || /^fe80:/.test(ip);
}

/**
 * Ollama's defence against DNS rebinding: while bound to loopback, a request whose Host header
 * names some other machine (a web page's domain re-pointed at 127.0.0.1) is refused with 403.
 * Allowed: localhost and *.localhost/*.local/*.internal, loopback and private addresses, this
 * machine's name, the bound host, and CARAVAN_ALLOWED_HOSTS (`*` allows all).
 */
export function hostCheck(options: { boundHost: string; allowedHosts: readonly string[] }): MiddlewareHandler {
  const allowed = new Set([options.boundHost, machineName(), ...options.allowedHosts].map((h) => hostOnly(h)));
  const active = isLoopback(options.boundHost) && !allowed.has("*");
  // Not async: a middleware that only checks hands on next()'s promise (no promise of its own
  // per request); a throw still reaches Hono's error handler, as compose calls it in a try.
  return (c, next) => {
    if (!active) return next();
    const host = hostOnly(c.req.header("host") ?? "");
    const ok =
      host === "" ||
      host === "localhost" ||
      /\.(localhost|local|internal)$/.test(host) ||
      isLocalAddress(host) ||
      allowed.has(host);
    if (!ok) throw new HttpError(403, "forbidden_host", `host '${host.slice(0, 100)}' is not allowed (add it to CARAVAN_ALLOWED_HOSTS)`);
    return next();
  };
}
