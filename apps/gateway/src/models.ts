import { canonicalModelName, type AdvertisedModel, type ListedModel, type WorkerState } from "@caravan/protocol";
import type { GatewayTransport } from "@caravan/transport";
import { modelNotFound, noWorkerAvailable } from "./errors.ts";

/** Every model some live worker can serve, once each, sorted by name, with its capabilities. */
export async function advertisedModels(transport: GatewayTransport): Promise<AdvertisedModel[]> {
  return modelsOf(await transport.workers());
}

function modelsOf(workers: readonly WorkerState[]): AdvertisedModel[] {
  const byName = new Map<string, AdvertisedModel>();
  for (const worker of workers) {
    for (const model of worker.models) if (!byName.has(model.name)) byName.set(model.name, model);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The models as /api/tags lists them: Ollama's shape, without caravan's capabilities. */
export async function clusterModels(transport: GatewayTransport): Promise<ListedModel[]> {
  return (await advertisedModels(transport)).map(({ capabilities: _, ...listed }) => listed);
}

/**
 * The live workers, for an answer about `model` (canonical name): the transport's remembered view
 * when a worker in it has the model, else the states read again now, so that a model a worker
 * advertised a moment ago is never a 404. No live worker at all is a 503 with Retry-After.
 */
export async function workersForModel(transport: GatewayTransport, model: string): Promise<WorkerState[]> {
  const has = (worker: WorkerState) => worker.models.some((m) => m.name === model);
  const remembered = await transport.workers();
  if (remembered.some(has)) return remembered;
  const current = await transport.refreshWorkers();
  if (current.length === 0) throw noWorkerAvailable();
  return current;
}

/** Throws the 404 Ollama clients expect when no live worker has the model (see workersForModel). */
export async function requireModel(transport: GatewayTransport, requested: string): Promise<AdvertisedModel> {
  const canonical = canonicalModelName(requested);
  const found = modelsOf(await workersForModel(transport, canonical)).find((model) => model.name === canonical);
  if (!found) throw modelNotFound(requested);
  return found;
}
