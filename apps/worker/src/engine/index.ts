export { LlamaEngine } from "./engine.ts";
export type { CompleteRequest, EmbedRequest, EmbedResult, EngineConfig, EngineLog, EngineLogLevel, GenerateRequest, GenerateResult } from "./types.ts";
export { EngineError, EngineClosedError, EngineRequestError, GenerationAbortedError, type PartialGeneration } from "./errors.ts";
export { toSamplingSettings, type SamplingSettings, type SamplingMapping } from "./sampling.ts";
export { toLoadSettings, sameLoadSettings, type LoadSettings } from "./load-options.ts";
export { toChatHistory } from "./chat-history.ts";
export { PlainChatWrapper, chatWrapperFor } from "./chat-wrapper.ts";
