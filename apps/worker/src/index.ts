export { startWorker, type RunningWorker, HEARTBEAT_MS } from "./worker.ts";
export { Residency, NoRoomError, TooLargeError, estimateModelBytes, type Clock } from "./residency/index.ts";
export { loadWorkerConfig, defaultThreads, type WorkerConfig } from "./config.ts";
export { serveWorkerMetrics } from "./telemetry/metrics-port.ts";
export { LlamaEngine, SimulatedEngine, simulatedCatalog, PlainChatWrapper, toChatHistory, type Engine } from "./engine/index.ts";
export { scanModels, findModel, type CatalogEntry } from "./catalog/index.ts";
