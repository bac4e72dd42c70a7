export { IsolatedEngine, type IsolatedEngineConfig } from "./isolated-engine.ts";
