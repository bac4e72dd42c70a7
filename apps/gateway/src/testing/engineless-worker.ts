import { WIRE_VERSION, type AdvertisedModel, type WorkerState } from "@caravan/protocol";

/**
 * Test support: the state of a worker that advertises models but runs no engine. Gateway tests in
 * process advertise it on an InMemoryTransport: a request that got past validation would wait
 * for ever, so a prompt 4xx proves the gateway refused it before any worker.
 */
export function advertisedModel(name: string, overrides: Partial<AdvertisedModel> = {}): AdvertisedModel {
  return {
    name,
    model: name,
    modified_at: new Date().toISOString(),
    size: 1,
    digest: "0",
    details: { parent_model: "", format: "gguf", family: "llama", families: ["llama"], parameter_size: "292.80K", quantization_level: "F32" },
    capabilities: ["completion", "embedding"],
    ...overrides,
  };
}

export function enginelessWorkerState(models: AdvertisedModel[] = [advertisedModel("stories260k:latest")], overrides: Partial<WorkerState> = {}): WorkerState {
  return {
    v: WIRE_VERSION,
    worker_id: "test",
    num_parallel: 1,
    busy: 0,
    started_at: Date.now(),
    draining: false,
    loaded: [],
    max_loaded_models: 3,
    memory_budget_bytes: 1e9,
    memory_used_bytes: 0,
    engine: "none",
    gpu: false,
    models,
    ...overrides,
  };
}
