import { fileURLToPath } from "node:url";
import { join } from "node:path";

/**
 * The tiny real models the tests run on: `../shared/models` beside the checkout, or
 * CARAVAN_TEST_MODELS_DIR. Test support only.
 */
export const TEST_MODELS_DIR =
  process.env.CARAVAN_TEST_MODELS_DIR ?? fileURLToPath(new URL("../../../../../shared/models", import.meta.url));

export const STORIES_260K = join(TEST_MODELS_DIR, "stories260K.gguf");
export const STORIES_260K_CHATML = join(TEST_MODELS_DIR, "stories260K-chatml.gguf");
/** sha256 of stories260K.gguf, from the models README */
export const STORIES_260K_SHA256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";
