export { SimulatedEngine, type SimulatedEngineConfig } from "./simulated-engine.ts";
export { simulatedCatalog, SIMULATED_FAMILY } from "./simulated-catalog.ts";
