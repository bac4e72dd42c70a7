import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { GatewayDeps } from "./deps.ts";
import { HttpError, methodNotAllowed } from "./errors.ts";
import { chatHandler } from "./routes/chat.ts";
import { registerMetaRoutes } from "./routes/meta.ts";
import { registerPsRoute } from "./routes/ps.ts";

/** The gateway's HTTP API. Transport-agnostic: `deps.transport` is in-process or Redis. */
export function createApp(deps: GatewayDeps): Hono {
  const app = new Hono();
  registerMetaRoutes(app, deps);
  registerPsRoute(app, deps);
  app.post("/api/chat", chatHandler(deps));
  for (const path of ["/", "/api/version", "/api/tags", "/api/ps", "/api/chat"]) {
    app.all(path, () => {
      throw methodNotAllowed();
    });
  }
  app.notFound((c) => c.json({ error: "404 page not found" }, 404));
  app.onError((error, c) => {
    if (error instanceof HttpError) {
      if (error.status >= 500) deps.log.error({ err: error, path: c.req.path }, error.message);
      // 499 (client closed) is not in Hono's list of codes, but any 4xx/5xx is valid on the wire.
      return c.json({ error: error.message }, error.status as ContentfulStatusCode, error.headers);
    }
    deps.log.error({ err: error, path: c.req.path }, "unhandled error");
    return c.json({ error: "internal server error" }, 500);
  });
  return app;
}
