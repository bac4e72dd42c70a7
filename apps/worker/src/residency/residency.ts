import { KEEP_ALIVE_FOREVER, planRoom, type LoadedCopy, type ModelOptions, type Occupant } from "@caravan/protocol";
import { atDeadline, type Clock } from "./clock.ts";
import { NoRoomError, ResidencyClosedError, TooLargeError } from "./errors.ts";

/** What the loader gives back for a copy it loaded: the copy itself (`handle`), and facts about it. */
export interface LoadFacts<H> {
  /** the loaded copy (the engine's LoadedModel): what a lease hands its holder, and what unload() is given */
  handle: H;
  /** nanoseconds the load took */
  loadDurationNs: number;
  /** memory the copy holds, bytes */
  sizeBytes: number;
  /** context size per sequence */
  contextLength: number;
  /** sequences */
  slots: number;
}

/** What loading a model with a request's options would take, known before loading it. */
export interface LoadEstimate {
  /** memory the copy will hold, bytes */
  bytes: number;
  /** context size per sequence it will have */
  contextLength: number;
  /**
   * identity of its load settings: a loaded copy whose key differs cannot serve the request and is
   * loaded again with the new settings (Ollama reloads on a load-option change too)
   */
  settings: string;
  /** what sized it, for the error that refuses it, e.g. "num_ctx 32768 and 4 sequences" */
  sizedBy: string;
}

export type ResidencyLogLevel = "debug" | "info" | "warn" | "error";

/** The residency's I/O, passed in so that tests run it with a fake loader and a fake clock. */
export interface ResidencyDeps<H> {
  /** loads the model with the given load options; resolves with the copy and facts about it */
  load(model: string, options: ModelOptions): Promise<LoadFacts<H>>;
  /** frees a copy `load` gave (called once nobody holds it) */
  unload(model: string, handle: H): Promise<void>;
  /** what the model will need if loaded with `options`, used before loading for the budget and to spot a load-option change */
  estimate(model: string, options: ModelOptions): LoadEstimate;
  /** a real one (systemClock) in production, a fake in tests */
  clock: Clock;
  /**
   * called after every state change (loaded, unloaded, busy count, keep_alive): the worker
   * re-advertises and starts/stops consuming that model's queue
   */
  onChange?: () => void;
  log?: (level: ResidencyLogLevel, msg: string, fields?: Record<string, unknown>) => void;
}

export interface ResidencyConfig {
  /** most models loaded or loading at once */
  maxLoadedModels: number;
  /** memory the loaded and loading models may take, bytes */
  memoryBudgetBytes: number;
  /** keep_alive when a request does not say, ms; negative = forever */
  defaultKeepAliveMs: number;
}

export interface UseOptions {
  /** the request's keep_alive in ms (negative = forever); absent = the configured default */
  keepAliveMs?: number;
  /** load options, used when the model has to be loaded */
  options: ModelOptions;
}

interface Copy<H> {
  model: string;
  /** loading → loaded → unloading → (removed); a failed load is removed from loading */
  state: "loading" | "loaded" | "unloading";
  /** acquires not yet released, counted from the acquire (so also while waiting for the load) */
  refs: number;
  /** sticky: the latest request's value */
  keepAliveMs: number;
  /** the estimate while loading, the loader's figure once loaded */
  sizeBytes: number;
  /** LoadEstimate.settings of the options it was loaded with */
  settings: string;
  contextLength: number;
  slots: number;
  lastUsedAt: number;
  /** when the last reference was released (or an idle load finished); undefined while in use */
  idleSince: number | undefined;
  cancelTimer: (() => void) | undefined;
  /** settles when the load ends; every caller that needs the model waits on this one promise */
  loaded: Promise<LoadFacts<H>>;
  /** the loaded copy, once loaded */
  handle: H | undefined;
  /** set when unloading begins; settles once the copy is gone */
  gone: Promise<void> | undefined;
  /** wakes the unload waiting for the last reference */
  drained: (() => void) | undefined;
}

/**
 * Which models are loaded on this worker, their sticky keep_alive and idle timers, references,
 * reloads for other load settings, and eviction, with Ollama's semantics (server/sched.go): the one
 * owner of a loaded copy's life. No I/O of its own: loading, unloading and time come in through
 * ResidencyDeps; a loaded copy (`H`, the engine's LoadedModel) is held here and lent to each job
 * with its lease.
 */
export class Residency<H = unknown> {
  private readonly copies = new Map<string, Copy<H>>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly config: ResidencyConfig,
    private readonly deps: ResidencyDeps<H>,
  ) {
    if (!Number.isInteger(config.maxLoadedModels) || config.maxLoadedModels < 1) {
      throw new RangeError(`maxLoadedModels must be a whole number ≥ 1, got ${config.maxLoadedModels}`);
    }
    if (!(config.memoryBudgetBytes >= 0)) throw new RangeError(`memoryBudgetBytes must be ≥ 0, got ${config.memoryBudgetBytes}`);
  }

  /**
   * A `load` command (a chat with no messages): loads the model if needed (evicting idle models
   * to make room), sets its sticky keep_alive, and, when nobody uses it, restarts its idle timer
   * from now. keep_alive 0 with no users unloads it right away. Throws NoRoomError.
   */
  async load(model: string, opts: UseOptions): Promise<{ loadDurationNs: number }> {
    const { loadDurationNs } = await this.use(model, opts, false);
    return { loadDurationNs };
  }

  /**
   * A job: like load, but holds a reference until release() (which is safe to call twice), and
   * lends the loaded copy (`handle`) to run on. A held model is never evicted and its idle timer
   * starts when its last reference is released.
   */
  async acquire(model: string, opts: UseOptions): Promise<{ loadDurationNs: number; handle: H; release(): void }> {
    const { loadDurationNs, copy } = await this.use(model, opts, true);
    let released = false;
    return {
      loadDurationNs,
      handle: copy.handle as H,
      release: () => {
        if (released) return;
        released = true;
        this.release(copy);
      },
    };
  }

  /**
   * Unloads the model once its current users are done; a no-op if it is not loaded. A model still
   * loading is unloaded when its load ends. Acquires that come meanwhile wait, then load it again.
   * Rejects if the engine's unload fails (the model is forgotten all the same).
   */
  async unload(model: string): Promise<void> {
    const copy = this.copies.get(model);
    if (!copy) return;
    if (copy.state === "loading") {
      try {
        await copy.loaded;
      } catch {
        return; // the load failed: nothing to unload
      }
      return this.unload(model);
    }
    return this.beginUnload(copy, "requested");
  }

  /**
   * The engine lost the model on its own (its runner process crashed): the copy counts as unloading
   * at once (no new work, its memory still counted) and is forgotten as soon as its jobs, which the
   * engine has failed, release it; the next request loads it again. A no-op unless it is loaded.
   */
  lost(model: string, reason: string): void {
    const copy = this.copies.get(model);
    if (copy?.state === "loaded") void this.beginUnload(copy, reason).catch(() => {});
  }

  /** Shutdown: refuses new loads and jobs, then unloads everything once its users are done. Safe to call twice. */
  unloadAll(): Promise<void> {
    this.closing ??= (async () => {
      while (this.copies.size > 0) {
        await Promise.allSettled([...this.copies.keys()].map((model) => this.unload(model)));
      }
    })();
    return this.closing;
  }

  /** Loaded and not being unloaded (a copy still loading does not count). */
  isLoaded(model: string): boolean {
    return this.copies.get(model)?.state === "loaded";
  }

  /** The loaded and loading copies, for the heartbeat and /api/ps. Copies being unloaded are left out: they take no new work. */
  snapshot(): LoadedCopy[] {
    const now = this.deps.clock.now();
    return [...this.copies.values()]
      .filter((copy) => copy.state !== "unloading")
      .map((copy) => ({
        model: copy.model,
        loading: copy.state === "loading",
        size_bytes: Math.round(copy.sizeBytes),
        context_length: copy.contextLength,
        busy: copy.refs,
        slots: copy.slots,
        keep_alive_ms: copy.keepAliveMs,
        expires_at: expiresAt(copy, now),
        last_used_at: copy.lastUsedAt,
      }));
  }

  /**
   * Memory held or about to be held: loaded and loading copies, and copies being unloaded until
   * the engine has freed them (an unload waiting for running jobs can take minutes).
   */
  usedBytes(): number {
    let sum = 0;
    for (const copy of this.copies.values()) sum += copy.sizeBytes;
    return sum;
  }

  /**
   * Ensures the model is loaded for one caller (holding a reference if `hold`); returns the copy and
   * the nanoseconds this caller waited for a load (0 if it was loaded).
   */
  private async use(model: string, opts: UseOptions, hold: boolean): Promise<{ loadDurationNs: number; copy: Copy<H> }> {
    const keepAliveMs = normalizeKeepAlive(opts.keepAliveMs ?? this.config.defaultKeepAliveMs);
    const calledAt = this.deps.clock.now();
    // Sized once, before anything: a request that could never fit is refused here, whatever is loaded.
    const estimate = this.deps.estimate(model, opts.options);
    this.refuseTooLarge(model, estimate);
    for (;;) {
      if (this.closing) throw new ResidencyClosedError(model);
      const copy = this.copies.get(model);
      if (copy?.state === "unloading") {
        await copy.gone!.catch(() => {});
        continue; // then load it again
      }
      if (copy && copy.settings !== estimate.settings) {
        if (copy.state === "loading") {
          await copy.loaded.catch(() => {});
          continue; // then replace it, once loaded
        }
        // Other load settings (num_ctx, say): the copy is replaced once its requests are done. It
        // must fit where the old copy was, or nothing is unloaded and the request is refused.
        this.planFor(model, estimate, copy);
        this.beginUnload(copy, "load options changed").catch(() => {});
        continue;
      }
      if (copy?.state === "loaded") {
        copy.keepAliveMs = keepAliveMs;
        if (hold) this.retain(copy);
        else if (copy.refs === 0) this.goIdle(copy); // a request that ends at once: the idle timer restarts
        this.changed();
        return { loadDurationNs: 0, copy };
      }
      let started = false;
      let target = copy;
      if (!target) {
        target = this.startLoad(model, keepAliveMs, opts.options, estimate);
        started = true;
      } else {
        target.keepAliveMs = keepAliveMs; // joins the load already under way
      }
      if (hold) target.refs += 1;
      this.changed();
      const facts = await target.loaded;
      if (started) return { loadDurationNs: facts.loadDurationNs, copy: target };
      // A caller that joined late waited only part of the load.
      const waitedNs = (this.deps.clock.now() - calledAt) * 1e6;
      return { loadDurationNs: Math.round(Math.max(0, Math.min(facts.loadDurationNs, waitedNs))), copy: target };
    }
  }

  /** A model that alone needs more than the whole budget can never load here. */
  private refuseTooLarge(model: string, estimate: LoadEstimate): void {
    if (estimate.bytes <= this.config.memoryBudgetBytes) return;
    throw new TooLargeError(
      `model '${model}' with ${estimate.sizedBy} needs about ${formatBytes(estimate.bytes)}, more than this worker's memory budget of ` +
        `${formatBytes(this.config.memoryBudgetBytes)} (CARAVAN_MEMORY_BUDGET); ask for a smaller num_ctx`,
    );
  }

  /**
   * Which idle models must go for `estimate` to load (`replacing`: a copy of the same model that
   * the load takes the place of, not counted). Throws NoRoomError when busy models leave no room.
   */
  private planFor(model: string, estimate: LoadEstimate, replacing?: Copy<H>): string[] {
    const occupants: Occupant[] = [...this.copies.values()]
      .filter((c) => c.state !== "unloading" && c !== replacing)
      .map((c) => ({ model: c.model, bytes: c.sizeBytes, idle: c.state === "loaded" && c.refs === 0, keepAliveMs: c.keepAliveMs, lastUsedAt: c.lastUsedAt }));
    const plan = planRoom(occupants, estimate.bytes, this.config);
    if (!plan) {
      const held = occupants.reduce((sum, o) => sum + o.bytes, 0);
      throw new NoRoomError(
        `no room to load ${model}: it needs ~${estimate.bytes} bytes beside ${occupants.length} busy or loading model(s) holding ${held} ` +
          `of a ${this.config.memoryBudgetBytes}-byte budget (at most ${this.config.maxLoadedModels} loaded)`,
      );
    }
    return plan.evict;
  }

  /** Plans room (synchronously, so two loads cannot both take the same free bytes) and starts the load. */
  private startLoad(model: string, keepAliveMs: number, options: ModelOptions, estimate: LoadEstimate): Copy<H> {
    const log = this.deps.log ?? (() => {});
    for (const victim of this.planFor(model, estimate)) {
      log("info", "evicting idle model to make room", { model: victim, for: model });
      this.beginUnload(this.copies.get(victim)!, "evicted");
    }

    const now = this.deps.clock.now();
    const copy: Copy<H> = {
      model,
      state: "loading",
      refs: 0,
      keepAliveMs,
      sizeBytes: estimate.bytes,
      settings: estimate.settings,
      contextLength: estimate.contextLength,
      slots: 0,
      lastUsedAt: now,
      idleSince: undefined,
      cancelTimer: undefined,
      loaded: undefined as unknown as Promise<LoadFacts<H>>, // set just below: runLoad needs the copy in the map first
      handle: undefined,
      gone: undefined,
      drained: undefined,
    };
    this.copies.set(model, copy);
    copy.loaded = this.runLoad(copy, options);
    copy.loaded.catch(() => {}); // every caller awaits it; this only keeps a failure from counting as unhandled
    return copy;
  }

  private async runLoad(copy: Copy<H>, options: ModelOptions): Promise<LoadFacts<H>> {
    const log = this.deps.log ?? (() => {});
    // Memory promised by an eviction (or an unload by timer) is free only once the engine has
    // freed it: wait for the unloads under way when, counting them, the model would not fit.
    const unloading = [...this.copies.values()].filter((c) => c.state === "unloading");
    const physicalBytes = this.usedBytes();
    if (unloading.length > 0 && (physicalBytes > this.config.memoryBudgetBytes || this.copies.size > this.config.maxLoadedModels)) {
      await Promise.allSettled(unloading.map((c) => c.gone));
    }
    log("info", "loading model", { model: copy.model, estimateBytes: copy.sizeBytes });
    let facts: LoadFacts<H>;
    try {
      facts = await this.deps.load(copy.model, options);
    } catch (error) {
      this.copies.delete(copy.model);
      copy.refs = 0;
      log("error", "model load failed", { model: copy.model, error: (error as Error)?.message ?? String(error) });
      this.changed();
      throw error;
    }
    const now = this.deps.clock.now();
    copy.state = "loaded";
    copy.handle = facts.handle;
    copy.sizeBytes = facts.sizeBytes;
    copy.contextLength = facts.contextLength;
    copy.slots = facts.slots;
    copy.lastUsedAt = now;
    log("info", "model loaded", { model: copy.model, sizeBytes: facts.sizeBytes, loadDurationMs: facts.loadDurationNs / 1e6 });
    if (copy.refs === 0) this.goIdle(copy);
    this.changed();
    return facts;
  }

  private retain(copy: Copy<H>): void {
    copy.refs += 1;
    copy.idleSince = undefined;
    copy.cancelTimer?.();
    copy.cancelTimer = undefined;
  }

  private release(copy: Copy<H>): void {
    copy.refs -= 1;
    copy.lastUsedAt = this.deps.clock.now();
    if (copy.refs === 0) {
      if (copy.state === "unloading") copy.drained?.();
      else if (copy.state === "loaded") this.goIdle(copy);
    }
    this.changed();
  }

  /** Nobody holds the copy: start its keep_alive from now (0: unload now; forever: no timer). */
  private goIdle(copy: Copy<H>): void {
    const now = this.deps.clock.now();
    copy.idleSince = now;
    copy.lastUsedAt = now;
    copy.cancelTimer?.();
    copy.cancelTimer = undefined;
    if (copy.keepAliveMs === 0) {
      this.beginUnload(copy, "keep_alive 0");
    } else if (copy.keepAliveMs > 0) {
      copy.cancelTimer = atDeadline(this.deps.clock, now + copy.keepAliveMs, () => {
        copy.cancelTimer = undefined;
        if (copy.state === "loaded" && copy.refs === 0) this.beginUnload(copy, "keep_alive expired");
      });
    }
  }

  /** Marks the copy as going (no new users), waits for its references, then unloads it. Idempotent. */
  private beginUnload(copy: Copy<H>, reason: string): Promise<void> {
    if (copy.gone) return copy.gone;
    const log = this.deps.log ?? (() => {});
    copy.state = "unloading";
    copy.cancelTimer?.();
    copy.cancelTimer = undefined;
    copy.gone = (async () => {
      if (copy.refs > 0) await new Promise<void>((resolve) => (copy.drained = resolve));
      log("info", "unloading model", { model: copy.model, reason });
      try {
        await this.deps.unload(copy.model, copy.handle as H);
      } finally {
        // Forgotten even when the engine's unload failed: keeping a copy nobody can use helps no one.
        this.copies.delete(copy.model);
        this.changed();
      }
    })();
    copy.gone.catch((error) => log("error", "model unload failed", { model: copy.model, error: (error as Error)?.message ?? String(error) }));
    this.changed();
    return copy.gone;
  }

  private changed(): void {
    try {
      this.deps.onChange?.();
    } catch (error) {
      this.deps.log?.("error", "residency onChange listener threw", { error: (error as Error)?.message ?? String(error) });
    }
  }
}

function normalizeKeepAlive(ms: number): number {
  return ms < 0 ? KEEP_ALIVE_FOREVER : ms;
}

/** Idle: idle-since + keep_alive. In use or loading: at least keep_alive from now. Forever: null. */
function expiresAt(copy: Copy<unknown>, now: number): number | null {
  if (copy.keepAliveMs < 0) return null;
  if (copy.state === "loaded" && copy.refs === 0 && copy.idleSince !== undefined) return copy.idleSince + copy.keepAliveMs;
  return now + copy.keepAliveMs;
}

function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}
