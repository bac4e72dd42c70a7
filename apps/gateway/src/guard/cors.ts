import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { HttpError } from "../errors.ts";

/** Ollama's default origins: this machine's, over http(s) on any port, and desktop app schemes. */
export const DEFAULT_ORIGINS: readonly string[] = [
  ...["localhost", "127.0.0.1", "0.0.0.0", "[::1]"].flatMap((host) => [`http://${host}`, `https://${host}`, `http://${host}:*`, `https://${host}:*`]),
  "app://*",
  "file://*",
  "tauri://*",
  "vscode-webview://*",
  "vscode-file://*",
];

function pattern(origin: string): RegExp {
  return new RegExp(`^${origin.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "i");
}

/**
 * CORS as Ollama does it with OLLAMA_ORIGINS: the default origins plus CARAVAN_ORIGINS (`*`
 * wildcards). A request that carries an Origin header not on the list is refused (403) rather
 * than answered without CORS headers: a page elsewhere cannot even make a "simple" request
 * that runs a model.
 */
export function corsGuard(extraOrigins: readonly string[]): MiddlewareHandler {
  const patterns = [...DEFAULT_ORIGINS, ...extraOrigins].map(pattern);
  const allowed = (origin: string) => patterns.some((p) => p.test(origin));
  const preflight = cors({
    origin: (origin) => (allowed(origin) ? origin : null),
    allowMethods: ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
    maxAge: 600,
  });
  return (c, next) => {
    const origin = c.req.header("origin");
    if (origin !== undefined && !allowed(origin)) throw new HttpError(403, "forbidden_origin", `origin '${origin.slice(0, 200)}' is not allowed (add it to CARAVAN_ORIGINS)`);
    if (c.req.method === "OPTIONS") return preflight(c, next);
    // What hono/cors sets on other requests, but set before the handler, so that the response
    // it builds has them (as does an error answer, which a page can then read). hono/cors adds
    // Vary after the handler, and a header set on a finished response makes Hono copy the
    // whole response: a second Response per request, a third when the page sent an Origin.
    if (origin !== undefined) c.header("Access-Control-Allow-Origin", origin);
    c.header("Vary", "Origin");
    return next();
  };
}
