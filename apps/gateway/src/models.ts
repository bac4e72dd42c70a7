import { canonicalModelName, type AdvertisedModel, type ListedModel } from "@caravan/protocol";
import type { GatewayTransport } from "@caravan/transport";
import { modelNotFound } from "./errors.ts";

/** Every model some live worker can serve, once each, sorted by name, with its capabilities. */
export async function advertisedModels(transport: GatewayTransport): Promise<AdvertisedModel[]> {
  const byName = new Map<string, AdvertisedModel>();
  for (const worker of await transport.workers()) {
    for (const model of worker.models) if (!byName.has(model.name)) byName.set(model.name, model);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The models as /api/tags lists them: Ollama's shape, without caravan's capabilities. */
export async function clusterModels(transport: GatewayTransport): Promise<ListedModel[]> {
  return (await advertisedModels(transport)).map(({ capabilities: _, ...listed }) => listed);
}

/** Throws the 404 Ollama clients expect when no live worker has the model. */
export async function requireModel(transport: GatewayTransport, requested: string): Promise<AdvertisedModel> {
  const canonical = canonicalModelName(requested);
  const found = (await advertisedModels(transport)).find((model) => model.name === canonical);
  if (!found) throw modelNotFound(requested);
  return found;
}
