import { Hono } from "hono";
import type { GatewayApp, GatewayDeps, GatewayEnv } from "./deps.ts";
import { errorHandler, refuseOtherMethods } from "./errors.ts";
import { openAiErrorBody } from "./openai/errors.ts";
import { isV1Path, openAiErrors, unknownUrl, V1, v1App } from "./openai/v1.ts";
import { serve } from "./respond/serve.ts";
import { chat } from "./routes/chat.ts";
import { embed, embeddings } from "./routes/embed.ts";
import { generate } from "./routes/generate.ts";
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
  app.post("/api/chat", serve(chat, deps));
  app.post("/api/generate", serve(generate, deps));
  app.post("/api/embed", serve(embed, deps));
  app.post("/api/embeddings", serve(embeddings, deps));
  refuseOtherMethods(app); // before /v1 is mounted: the /v1 app refuses its own
  app.route(V1, v1App(deps));
  // The /v1 app answers its own routes' errors. What is refused before routing (the guards above)
  // and paths no route has are answered here, in the shape of the API the path belongs to.
  const ollamaErrors = errorHandler(deps.log, (error) => ({ error: error.message }));
  const v1Errors = openAiErrors(deps);
  app.onError((error, c) => (isV1Path(c.req.path) ? v1Errors : ollamaErrors)(error, c));
  app.notFound((c) => (isV1Path(c.req.path) ? c.json(openAiErrorBody(unknownUrl(c.req.method, c.req.path)), 404) : c.json({ error: "404 page not found" }, 404)));
  return app;
}
