import type { GatewayApp, GatewayDeps } from "../deps.ts";
import { clusterModels } from "../models.ts";

/** The endpoints clients probe: `/` (text), `/api/version`, `/api/tags`. */
export function registerMetaRoutes(app: GatewayApp, deps: GatewayDeps): void {
  // Hono answers HEAD with the GET handler's headers and no body.
  app.get("/", (c) => c.text("Ollama is running"));
  app.get("/api/version", (c) => c.json({ version: deps.version }));
  app.get("/api/tags", async (c) => c.json({ models: await clusterModels(deps.transport) }));
}
