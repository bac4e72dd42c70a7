import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import type { ModelOptions } from "@caravan/protocol";

import type { CatalogEntry } from "../catalog/catalog.ts";
import type { Engine } from "./engine-api.ts";
import { EngineClosedError, EngineError } from "./errors.ts";
import { fixJsonGrammars } from "./gbnf-fixes.ts";
import { JsonGrammars } from "./json-grammar.ts";
import { LlamaLoadedModel } from "./loaded-model.ts";
import type { LoadSettings } from "./load-options.ts";
import { planLlamaLoad, type LoadPlan } from "./load-plan.ts";
import type { EngineConfig, EngineLog } from "./types.ts";

/**
 * Loads GGUF models with node-llama-cpp in this process: each load is a LlamaLoadedModel with
 * `numParallel` sequences. The engine keeps the llama.cpp binding, the JSON grammars its models
 * share and the models it loaded and has not disposed yet (close() disposes them).
 */
export class LlamaEngine implements Engine {
  readonly name = "llama";
  private readonly grammars: JsonGrammars;
  private readonly models = new Set<LlamaLoadedModel>();
  private closed: Promise<void> | undefined;
  private readonly log: EngineLog;

  private constructor(
    private readonly llama: Llama,
    private readonly config: EngineConfig,
  ) {
    this.log = config.log ?? (() => {});
    this.grammars = new JsonGrammars(llama);
  }

  static async create(config: EngineConfig): Promise<LlamaEngine> {
    if (!Number.isInteger(config.threads) || config.threads < 1) throw new EngineError(`threads must be a positive integer, got ${config.threads}`);
    if (!Number.isInteger(config.numParallel) || config.numParallel < 1)
      throw new EngineError(`numParallel must be a positive integer, got ${config.numParallel}`);
    const log = config.log ?? (() => {});
    await fixJsonGrammars();
    const llama = await getLlama({
      gpu: config.gpu,
      // Caps every context's threads: the library's default of 4 collapses to 1–3 tok/s on 2 cores.
      maxThreads: config.threads,
      // A server never compiles llama.cpp at run time: without a prebuilt binary for the GPU it falls back.
      build: "never",
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => log(toEngineLevel(level), message.trim(), { source: "llama.cpp" }),
    });
    log("info", "engine ready", { gpu: llama.gpu, threads: config.threads, numParallel: config.numParallel });
    return new LlamaEngine(llama, config);
  }

  async load(entry: CatalogEntry, settings: LoadSettings): Promise<LlamaLoadedModel> {
    if (this.closed) throw new EngineClosedError();
    const shared = { grammars: this.grammars, log: this.log, disposed: (model: LlamaLoadedModel) => this.models.delete(model) };
    const loaded = await LlamaLoadedModel.load(this.llama, entry, settings, this.config.numParallel, shared);
    if (this.closed) {
      await loaded.dispose().catch(() => {});
      throw new EngineClosedError();
    }
    this.models.add(loaded);
    return loaded;
  }

  /** Whether models run on a GPU, and its memory (for the worker's memory budget). */
  async device(): Promise<{ gpu: boolean; vram?: { total: number; used: number } }> {
    if (this.llama.gpu === false) return { gpu: false };
    const vram = await this.llama.getVramState();
    return { gpu: true, vram: { total: vram.total, used: vram.used } };
  }

  /** Bounded load settings; memory: weights, KV cache of every sequence and a fixed overhead (see residency/memory.ts). */
  planLoad(entry: CatalogEntry, options: ModelOptions): LoadPlan {
    return planLlamaLoad(entry, options, this.config);
  }

  /**
   * Disposes every model it loaded (their running requests reject with EngineClosedError), then
   * the llama.cpp binding. Safe to call twice; every step runs even if one fails.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      const results = await Promise.allSettled([...this.models].map((model) => model.dispose()));
      const errors: unknown[] = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
      await this.llama.dispose().catch((error: unknown) => errors.push(error));
      for (const error of errors) this.log("error", "engine close step failed", { error: String(error) });
      this.log("info", "engine closed");
    })();
    return this.closed;
  }
}

function toEngineLevel(level: LlamaLogLevel): "debug" | "info" | "warn" | "error" {
  switch (level) {
    case LlamaLogLevel.fatal:
    case LlamaLogLevel.error:
      return "error";
    case LlamaLogLevel.warn:
      return "warn";
    case LlamaLogLevel.info:
      return "info";
    default:
      return "debug";
  }
}
