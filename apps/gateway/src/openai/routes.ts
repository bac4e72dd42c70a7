import type { GatewayApp, GatewayDeps } from "../deps.ts";
import { chatCompletionsHandler } from "./chat-completions.ts";
import { completionsHandler } from "./completions.ts";
import { embeddingsHandler } from "./embeddings.ts";
import { registerModelRoutes } from "./models.ts";

/** The OpenAI-compatible API under /v1. Its errors take OpenAI's shape (the app's onError). */
export function registerOpenAiRoutes(app: GatewayApp, deps: GatewayDeps): void {
  app.post("/v1/chat/completions", chatCompletionsHandler(deps));
  app.post("/v1/completions", completionsHandler(deps));
  app.post("/v1/embeddings", embeddingsHandler(deps));
  registerModelRoutes(app, deps);
}

/** The /v1 paths, for the app's 405 answers to other methods. */
export const OPENAI_PATHS = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models", "/v1/models/:id{.+}"];

/** Paths whose errors take OpenAI's shape. */
export const isOpenAiPath = (path: string) => path === "/v1" || path.startsWith("/v1/");
