import { findModel, type CatalogEntry } from "../catalog/catalog.ts";
import { loadCopy, type Engine, type LoadedModel } from "../engine/engine-api.ts";
import type { ModelOptions } from "@caravan/protocol";
import { Residency, systemClock, type ResidencyConfig } from "../residency/index.ts";

/** For tests: `entry` loaded by `engine` with the load settings `options` ask for. */
export function loadModel<M extends LoadedModel>(engine: { load(entry: CatalogEntry, settings: ReturnType<Engine["planLoad"]>["settings"]): Promise<M>; planLoad: Engine["planLoad"] }, entry: CatalogEntry, options: ModelOptions = {}): Promise<M> {
  return engine.load(entry, engine.planLoad(entry, options).settings);
}

/**
 * For tests: a Residency over a real engine as the worker builds one (the engine's plan sizes a
 * copy and tells load settings apart), with room for 3 models in 1 GiB and keep_alive forever
 * unless `config` says otherwise. `onLoad` sees each load's duration.
 */
export function engineResidency(
  engine: Engine,
  entries: readonly CatalogEntry[],
  { config, onLoad }: { config?: Partial<ResidencyConfig>; onLoad?: (model: string, loadDurationNs: number) => void } = {},
): Residency<LoadedModel> {
  const entryFor = (model: string) => findModel(entries, model) ?? raise(`no model ${model} in the test's catalog`);
  return new Residency<LoadedModel>(
    { maxLoadedModels: 3, memoryBudgetBytes: 1 << 30, defaultKeepAliveMs: -1, ...config },
    {
      load: async (model, options) => {
        const facts = await loadCopy(engine, entryFor(model), options);
        onLoad?.(model, facts.loadDurationNs);
        return facts;
      },
      unload: (_model, loaded) => loaded.dispose(),
      estimate: (model, options) => {
        const plan = engine.planLoad(entryFor(model), options);
        return { bytes: plan.bytes, contextLength: plan.settings.contextSize, settings: plan.key, sizedBy: `num_ctx ${plan.settings.contextSize}` };
      },
      clock: systemClock,
    },
  );
}

function raise(message: string): never {
  throw new Error(message);
}
