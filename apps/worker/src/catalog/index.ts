export { scanModels, findModel, ModelFileCache, rememberModelFile, type CatalogEntry } from "./catalog.ts";
export { formatParameterCount, kvCacheBytesPerToken, quantizationName, readGgufFacts, type AttentionMetadata, type GgufFacts } from "./gguf-facts.ts";
export { sha256File } from "./digest.ts";
export { chatTemplateOf, modelCapabilities, withTemplate, type CapabilityHeader } from "./capabilities.ts";
export { parseSidecar, readSidecar, type Sidecar } from "./sidecar.ts";
export { describeModel, DescriptionCache, flattenMetadata, modelfile, PLAIN_LAYOUT_TEMPLATE } from "./describe.ts";
