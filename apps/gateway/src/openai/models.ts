import type { ListedModel } from "@caravan/protocol";
import type { GatewayApp, GatewayDeps } from "../deps.ts";
import { clusterModels, requireModel } from "../models.ts";

/** OpenAI's model object. */
export interface OpenAiModel {
  id: string;
  object: "model";
  /** the file's modification time, seconds */
  created: number;
  /** the namespace of a `namespace/name` model, else "library" (as Ollama) */
  owned_by: string;
}

export function openAiModel(model: ListedModel): OpenAiModel {
  const slash = model.name.lastIndexOf("/");
  return {
    id: model.name,
    object: "model",
    created: Math.floor(Date.parse(model.modified_at) / 1000),
    owned_by: slash === -1 ? "library" : model.name.slice(0, slash),
  };
}

/** GET /v1/models and GET /v1/models/{id} (an id may hold slashes: `hf.co/org/name:tag`), on the /v1 app. */
export function registerModelRoutes(v1: GatewayApp, deps: GatewayDeps): void {
  v1.get("/models", async (c) => c.json({ object: "list", data: (await clusterModels(deps.transport)).map(openAiModel) }));
  v1.get("/models/:id{.+}", async (c) => c.json(openAiModel(await requireModel(deps.transport, c.req.param("id")))));
}
