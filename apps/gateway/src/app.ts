import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { GatewayApp, GatewayDeps, GatewayEnv } from "./deps.ts";
import { TransportUnavailableError } from "@caravan/transport";
import { HttpError, methodNotAllowed, redisUnavailable } from "./errors.ts";
import { openAiErrorBody } from "./openai/errors.ts";
import { isOpenAiPath, OPENAI_PATHS, registerOpenAiRoutes } from "./openai/routes.ts";
import { chatHandler } from "./routes/chat.ts";
import { embeddingsHandler, embedHandler } from "./routes/embed.ts";
import { generateHandler } from "./routes/generate.ts";
import { registerMetaRoutes } from "./routes/meta.ts";
import { registerPsRoute } from "./routes/ps.ts";
import { registerShowRoute } from "./routes/show.ts";
import { registerCopyRoute } from "./routes/copy.ts";
import { registerDeleteRoute } from "./routes/delete.ts";
import { registerPullRoute } from "./routes/pull.ts";
import { registerMetricsRoute } from "./routes/metrics.ts";
import { GatewayTelemetry } from "./telemetry/gateway-telemetry.ts";
import { requestTelemetry } from "./telemetry/middleware.ts";
import { apiKeyAuth } from "./auth/middleware.ts";
import { KeyRing } from "./auth/key-ring.ts";
import { StaticKeys } from "./auth/static-keys.ts";
import { maxBody } from "./guard/body-limit.ts";
import { corsGuard } from "./guard/cors.ts";
import { hostCheck } from "./guard/host-check.ts";

/** What the HTTP layer refuses before any handler runs. */
export interface AppSecurity {
  keys: KeyRing;
  maxBodyBytes: number;
  /** CORS origins besides the defaults */
  origins: readonly string[];
  /** the address the server is bound to (the Host check applies while it is loopback) */
  boundHost: string;
  allowedHosts: readonly string[];
}

const DEFAULT_SECURITY: AppSecurity = { keys: new KeyRing(new StaticKeys([])), maxBodyBytes: 8 * 1024 * 1024, origins: [], boundHost: "127.0.0.1", allowedHosts: [] };

/**
 * The gateway's HTTP API. Transport-agnostic: `deps.transport` is in-process or Redis. Without
 * `telemetry` nothing is traced or measured (tests).
 */
export function createApp(options: Omit<GatewayDeps, "telemetry"> & { telemetry?: GatewayTelemetry; security?: AppSecurity }): GatewayApp {
  const deps: GatewayDeps = { ...options, telemetry: options.telemetry ?? GatewayTelemetry.disabled(options.transport) };
  const security = options.security ?? DEFAULT_SECURITY;
  const app = new Hono<GatewayEnv>();
  app.use(requestTelemetry(deps.telemetry, deps.log));
  // Cheapest refusals first; none of them reads the body, and a preflight needs no key.
  app.use(hostCheck({ boundHost: security.boundHost, allowedHosts: security.allowedHosts }));
  app.use(corsGuard(security.origins));
  app.use(apiKeyAuth(security.keys));
  app.use(maxBody(security.maxBodyBytes));
  registerMetricsRoute(app, deps);
  registerMetaRoutes(app, deps);
  registerPsRoute(app, deps);
  registerShowRoute(app, deps);
  registerPullRoute(app, deps);
  registerDeleteRoute(app, deps);
  registerCopyRoute(app, deps);
  app.post("/api/chat", chatHandler(deps));
  app.post("/api/generate", generateHandler(deps));
  app.post("/api/embed", embedHandler(deps));
  app.post("/api/embeddings", embeddingsHandler(deps));
  registerOpenAiRoutes(app, deps);
  // A known path with the wrong method is a 405, not a 404.
  for (const path of ["/", "/metrics", "/api/version", "/api/tags", "/api/ps", "/api/show", "/api/pull", "/api/delete", "/api/copy", "/api/chat", "/api/generate", "/api/embed", "/api/embeddings", ...OPENAI_PATHS]) {
    app.all(path, () => {
      throw methodNotAllowed();
    });
  }
  app.notFound((c) =>
    isOpenAiPath(c.req.path)
      ? c.json(openAiErrorBody(new HttpError(404, "unknown_url", `Invalid URL (${c.req.method} ${c.req.path})`)), 404)
      : c.json({ error: "404 page not found" }, 404),
  );
  app.onError((thrown, c) => {
    // Redis down or restarting: a quick 503 the client can retry, never a hang or a 500.
    const error = redisUnavailable(thrown) ? new HttpError(503, "unavailable", thrown instanceof TransportUnavailableError ? thrown.message : "Redis is unreachable; try again shortly", { "Retry-After": "2" }) : thrown;
    if (error instanceof HttpError) {
      if (error.status >= 500) deps.log.error({ err: error, path: c.req.path }, error.message);
      // 499 (client closed) is not in Hono's list of codes, but any 4xx/5xx is valid on the wire.
      const body = isOpenAiPath(c.req.path) ? openAiErrorBody(error) : { error: error.message };
      return c.json(body, error.status as ContentfulStatusCode, error.headers);
    }
    deps.log.error({ err: error, path: c.req.path }, "unhandled error");
    if (isOpenAiPath(c.req.path)) return c.json(openAiErrorBody(new HttpError(500, "internal", "internal server error")), 500);
    return c.json({ error: "internal server error" }, 500);
  });
  return app;
}
