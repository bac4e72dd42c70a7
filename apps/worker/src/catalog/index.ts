export { scanModels, findModel, ModelFileCache, type CatalogEntry } from "./catalog.ts";
export { formatParameterCount, kvCacheBytesPerToken, quantizationName, readGgufFacts, type AttentionMetadata, type GgufFacts } from "./gguf-facts.ts";
export { sha256File } from "./digest.ts";
