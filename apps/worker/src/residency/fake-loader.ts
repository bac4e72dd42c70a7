import type { ModelOptions } from "@caravan/protocol";
import { FakeClock } from "./fake-clock.ts";
import { Residency, type LoadFacts, type ResidencyConfig, type ResidencyDeps } from "./residency.ts";

interface Pending<T> {
  model: string;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

/**
 * A loader for residency unit tests only: no engine, no model file. Loads and unloads finish at
 * once, or, with `holdLoads` / `holdUnloads`, when the test calls finishLoad / failLoad /
 * finishUnload. Every call is recorded in `calls` ("load a", "unload a"). A loaded copy is the
 * string "MODEL#N", N counting this loader's loads; `unloaded` lists the copies given to unload.
 */
export class FakeLoader {
  readonly calls: string[] = [];
  readonly logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  changes = 0;
  holdLoads = false;
  holdUnloads = false;
  /** a model's estimate (`model@num_ctx`: with that num_ctx); the loaded size is the same unless `loadedSizes` says otherwise */
  readonly sizes = new Map<string, number>();
  readonly loadedSizes = new Map<string, number>();
  readonly failUnloads = new Set<string>();
  readonly unloaded: string[] = [];
  private loadCount = 0;
  private readonly loads: Pending<LoadFacts<string>>[] = [];
  private readonly unloads: Pending<void>[] = [];

  constructor(private readonly clock: FakeClock) {}

  deps(): ResidencyDeps<string> {
    return {
      load: (model, options) => this.load(model, options),
      unload: (model, handle) => this.unload(model, handle),
      estimate: (model, options) => {
        const ctx = options.num_ctx ?? 2048;
        const bytes = (options.num_ctx !== undefined ? this.sizes.get(`${model}@${options.num_ctx}`) : undefined) ?? this.sizes.get(model) ?? 100;
        return { bytes, contextLength: ctx, settings: `ctx=${ctx}`, sizedBy: `num_ctx ${ctx}` };
      },
      clock: this.clock,
      onChange: () => {
        this.changes += 1;
      },
      log: (level, msg, fields) => this.logs.push({ level, msg, fields }),
    };
  }

  pendingLoads(): string[] {
    return this.loads.map((p) => p.model);
  }

  finishLoad(model: string): void {
    this.take(this.loads, model).resolve(this.facts(model));
  }

  failLoad(model: string, error = new Error(`cannot load ${model}`)): void {
    this.take(this.loads, model).reject(error);
  }

  finishUnload(model: string): void {
    this.take(this.unloads, model).resolve();
  }

  private facts(model: string): LoadFacts<string> {
    return { handle: `${model}#${++this.loadCount}`, loadDurationNs: 2_000_000, sizeBytes: this.loadedSizes.get(model) ?? this.sizes.get(model) ?? 100, contextLength: 2048, slots: 2 };
  }

  private load(model: string, options: ModelOptions): Promise<LoadFacts<string>> {
    this.calls.push(options.num_ctx === undefined ? `load ${model}` : `load ${model} num_ctx=${options.num_ctx}`);
    // What loaded is what was asked for: its context, and its own size where the test set one.
    const asked = (facts: LoadFacts<string>): LoadFacts<string> =>
      options.num_ctx === undefined ? facts : { ...facts, contextLength: options.num_ctx, sizeBytes: this.sizes.get(`${model}@${options.num_ctx}`) ?? facts.sizeBytes };
    if (!this.holdLoads) return Promise.resolve(asked(this.facts(model)));
    return new Promise((resolve, reject) => this.loads.push({ model, resolve: (facts) => resolve(asked(facts)), reject }));
  }

  private unload(model: string, handle: string): Promise<void> {
    this.calls.push(`unload ${model}`);
    this.unloaded.push(handle);
    if (this.failUnloads.has(model)) return Promise.reject(new Error(`cannot unload ${model}`));
    if (!this.holdUnloads) return Promise.resolve();
    return new Promise((resolve, reject) => this.unloads.push({ model, resolve, reject }));
  }

  private take<T>(list: Pending<T>[], model: string): Pending<T> {
    const index = list.findIndex((p) => p.model === model);
    if (index < 0) throw new Error(`nothing pending for ${model}`);
    return list.splice(index, 1)[0]!;
  }
}

export const MINUTE = 60_000;

/** A Residency over a FakeClock and a FakeLoader, for unit tests only. Defaults: 3 models, 1000 bytes, keep_alive 5m. */
export function fakeResidency(config: Partial<ResidencyConfig> = {}): { residency: Residency<string>; clock: FakeClock; loader: FakeLoader } {
  const clock = new FakeClock();
  const loader = new FakeLoader(clock);
  const residency = new Residency({ maxLoadedModels: 3, memoryBudgetBytes: 1000, defaultKeepAliveMs: 5 * MINUTE, ...config }, loader.deps());
  return { residency, clock, loader };
}
