import type { LoadedCopy, TraceContext } from "@caravan/protocol";
import { ATTR, disabledTelemetry, extractTraceContext, LOAD_DURATION_BUCKETS_S, type Counter, type Histogram, type ObservableGauge, type Telemetry, type Tracer } from "@caravan/telemetry";

/** which engine produced a measurement: "llama" or "simulated" */
export const ENGINE_ATTR = "caravan.engine";

type BatchCallback = Parameters<Telemetry["meter"]["addBatchObservableCallback"]>[0];

/**
 * A worker's spans and instruments, each with caravan.worker.id (and gen_ai.request.model where
 * it applies). With telemetry disabled every instrument is a no-op.
 */
export class WorkerTelemetry {
  readonly tracer: Tracer;
  /** model loads done here (a residency load, or an engine reload for other load options) */
  readonly modelLoads: Counter;
  /** seconds per load */
  readonly loadDuration: Histogram;
  /** output tokens generated here, per model */
  readonly tokensGenerated: Counter;
  private readonly gauges: ObservableGauge[];
  private observer: BatchCallback | undefined;

  constructor(
    readonly telemetry: Telemetry,
    readonly workerId: string,
    /** the engine's name ("llama", "simulated"): a label on every measurement, so simulated runs never pass for real ones */
    readonly engine = "llama",
  ) {
    const { meter } = telemetry;
    this.tracer = telemetry.tracer;
    this.modelLoads = meter.createCounter("caravan.model.loads", { description: "Model loads on this worker" });
    this.loadDuration = meter.createHistogram("caravan.model.load.duration", {
      unit: "s",
      description: "Time to load a model (weights and contexts)",
      advice: { explicitBucketBoundaries: LOAD_DURATION_BUCKETS_S },
    });
    this.tokensGenerated = meter.createCounter("caravan.tokens.generated", { unit: "{token}", description: "Output tokens generated on this worker" });
    this.gauges = [
      meter.createObservableGauge("caravan.models.loaded", { description: "Models loaded on this worker (not counting ones still loading)" }),
      meter.createObservableGauge("caravan.sequences.busy", { description: "Sequences running a request, per loaded model" }),
      meter.createObservableGauge("caravan.sequences.free", { description: "Sequences free for a request, per loaded model" }),
    ];
  }

  static disabled(workerId: string, engine?: string): WorkerTelemetry {
    return new WorkerTelemetry(disabledTelemetry(), workerId, engine);
  }

  /** One load of `model` that took `loadDurationNs`. */
  recordLoad(model: string, loadDurationNs: number): void {
    const attributes = { [ATTR.workerId]: this.workerId, [ENGINE_ATTR]: this.engine, [ATTR.requestModel]: model };
    this.modelLoads.add(1, attributes);
    this.loadDuration.record(loadDurationNs / 1e9, attributes);
  }

  /**
   * The span of a load a gateway asked for (placement, ahead of the jobs that wait for it) that
   * has just ended after `loadDurationNs`, in the trace of the request that caused it.
   */
  loadSpan(model: string, trace: TraceContext | undefined, loadDurationNs: number): void {
    if (loadDurationNs <= 0 || !trace) return;
    const end = Date.now();
    this.tracer
      .startSpan("caravan.model.load", { startTime: end - loadDurationNs / 1e6, attributes: { [ATTR.workerId]: this.workerId, [ATTR.requestModel]: model } }, extractTraceContext(trace))
      .end(end);
  }

  recordTokens(model: string, count: number): void {
    if (count > 0) this.tokensGenerated.add(count, { [ATTR.workerId]: this.workerId, [ENGINE_ATTR]: this.engine, [ATTR.requestModel]: model });
  }

  /**
   * Reports what `copies()` shows at each collection. A model unloaded since is reported with 0
   * busy and 0 free sequences rather than left at its last values.
   */
  observe(copies: () => LoadedCopy[]): void {
    if (this.observer) return;
    const [loaded, busy, free] = this.gauges as [ObservableGauge, ObservableGauge, ObservableGauge];
    const seen = new Set<string>();
    this.observer = (result) => {
      const now = new Map(copies().filter((c) => !c.loading).map((c) => [c.model, c]));
      result.observe(loaded, now.size, { [ATTR.workerId]: this.workerId, [ENGINE_ATTR]: this.engine });
      for (const model of now.keys()) seen.add(model);
      for (const model of seen) {
        const copy = now.get(model);
        const attributes = { [ATTR.workerId]: this.workerId, [ENGINE_ATTR]: this.engine, [ATTR.requestModel]: model };
        result.observe(busy, copy?.busy ?? 0, attributes);
        result.observe(free, copy ? Math.max(0, copy.slots - copy.busy) : 0, attributes);
      }
    };
    this.telemetry.meter.addBatchObservableCallback(this.observer, this.gauges);
  }

  /** Stops observing (the residency is going away). Idempotent. */
  close(): void {
    if (this.observer) this.telemetry.meter.removeBatchObservableCallback(this.observer, this.gauges);
    this.observer = undefined;
  }
}
