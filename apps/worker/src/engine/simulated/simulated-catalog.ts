import { canonicalModelName, ollamaTimestamp } from "@caravan/protocol";
import type { CatalogEntry } from "../../catalog/catalog.ts";

/** The family every simulated model reports in /api/tags, /api/ps and /api/show. */
export const SIMULATED_FAMILY = "simulated";

/**
 * Catalog entries for the simulated engine: one per name, no file behind it. `size` is the model's
 * whole memory (the engine's estimateBytes returns it), so residency budgets and evicts as it would
 * with real models of that size.
 */
export function simulatedCatalog(names: readonly string[], modelBytes: number, contextLength = 4096): CatalogEntry[] {
  const modifiedAt = new Date(0);
  const entries = names.map((raw): CatalogEntry => {
    const name = canonicalModelName(raw);
    return {
      name,
      path: `simulated:${name}`,
      size: modelBytes,
      modifiedAt,
      hasChatTemplate: false,
      capabilities: ["completion", "embedding"],
      contextLength,
      kvBytesPerToken: 0,
      layerCount: 0,
      listed: {
        name,
        model: name,
        modified_at: ollamaTimestamp(modifiedAt.getTime()),
        size: modelBytes,
        digest: `simulated-${name}`,
        details: { parent_model: "", format: SIMULATED_FAMILY, family: SIMULATED_FAMILY, families: [SIMULATED_FAMILY], parameter_size: "0", quantization_level: "none" },
      },
    };
  });
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
