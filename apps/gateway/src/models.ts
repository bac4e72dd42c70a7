import { canonicalModelName, type ListedModel } from "@caravan/protocol";
import type { GatewayTransport } from "@caravan/transport";
import { modelNotFound } from "./errors.ts";

/** Every model some live worker can serve, once each, sorted by name. */
export async function clusterModels(transport: GatewayTransport): Promise<ListedModel[]> {
  const byName = new Map<string, ListedModel>();
  for (const worker of await transport.workers()) {
    for (const model of worker.models) if (!byName.has(model.name)) byName.set(model.name, model);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Throws the 404 Ollama clients expect when no live worker has the model. */
export async function requireModel(transport: GatewayTransport, requested: string): Promise<ListedModel> {
  const canonical = canonicalModelName(requested);
  const found = (await clusterModels(transport)).find((model) => model.name === canonical);
  if (!found) throw modelNotFound(requested);
  return found;
}
