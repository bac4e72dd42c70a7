import {
  ATTR,
  disabledTelemetry,
  LATENCY_BUCKETS_S,
  QUEUE_WAIT_BUCKETS_S,
  REQUEST_DURATION_BUCKETS_S,
  TOKEN_COUNT_BUCKETS,
  TOKEN_LATENCY_BUCKETS_S,
  type Counter,
  type Histogram,
  type ObservableGauge,
  type Telemetry,
  type Tracer,
} from "@caravan/telemetry";
import type { GatewayTransport } from "@caravan/transport";

/**
 * The gateway's spans and instruments (GenAI semantic-convention names where they exist,
 * `caravan.*` for the cluster's own). Made once per gateway; with telemetry disabled every
 * instrument is a no-op, so the code that records never asks.
 */
export class GatewayTelemetry {
  readonly tracer: Tracer;
  /** request arrival → first token written (s) */
  readonly timeToFirstToken: Histogram;
  /** eval_duration / (eval_count - 1) (s) */
  readonly timePerOutputToken: Histogram;
  /** request arrival → last byte (s); error.type when it failed */
  readonly requestDuration: Histogram;
  /** tokens per request, gen_ai.token.type input or output */
  readonly tokenUsage: Histogram;
  /** prompt tokens served from a sequence's cache instead of evaluated, per model (a part of the input tokens) */
  readonly cachedPromptTokens: Counter;
  /** submission → a worker started the job (s) */
  readonly queueWait: Histogram;
  /** requests refused before they ran, by caravan.reject.reason */
  readonly rejected: Counter;
  /** requests that failed after they were accepted, by error.type */
  readonly errors: Counter;
  /** requests admitted per API key (caravan.key.id: the key's id, never the key) */
  readonly keyRequests: Counter;
  /** tokens per API key, gen_ai.token.type input or output */
  readonly keyTokens: Counter;
  private readonly queueDepth: ObservableGauge;
  private readonly observeQueues: Parameters<ObservableGauge["addCallback"]>[0];

  constructor(
    readonly telemetry: Telemetry,
    transport: Pick<GatewayTransport, "queueStats" | "workers">,
  ) {
    const { meter } = telemetry;
    this.tracer = telemetry.tracer;
    this.timeToFirstToken = meter.createHistogram("gen_ai.server.time_to_first_token", {
      unit: "s",
      description: "Time from the request's arrival to its first token written",
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS_S },
    });
    this.timePerOutputToken = meter.createHistogram("gen_ai.server.time_per_output_token", {
      unit: "s",
      description: "Time per output token after the first (eval_duration / (eval_count - 1))",
      advice: { explicitBucketBoundaries: TOKEN_LATENCY_BUCKETS_S },
    });
    this.requestDuration = meter.createHistogram("gen_ai.server.request.duration", {
      unit: "s",
      description: "Time from a generation request's arrival to its last byte",
      advice: { explicitBucketBoundaries: REQUEST_DURATION_BUCKETS_S },
    });
    this.tokenUsage = meter.createHistogram("gen_ai.client.token.usage", {
      unit: "{token}",
      description: "Tokens per request: the prompt (input) and the answer (output)",
      advice: { explicitBucketBoundaries: TOKEN_COUNT_BUCKETS },
    });
    this.cachedPromptTokens = meter.createCounter("caravan.prompt.cached_tokens", {
      unit: "{token}",
      description: "Prompt tokens a cached prefix served (counted in the input tokens too, but not evaluated again)",
    });
    this.queueWait = meter.createHistogram("caravan.queue.wait", {
      unit: "s",
      description: "Time from a job's submission until a worker started it",
      advice: { explicitBucketBoundaries: QUEUE_WAIT_BUCKETS_S },
    });
    this.rejected = meter.createCounter("caravan.requests.rejected", { description: "Requests refused before they ran, by reason" });
    this.errors = meter.createCounter("caravan.errors", { description: "Accepted requests that ended in an error, by error.type" });
    this.keyRequests = meter.createCounter("caravan.key.requests", { description: "Requests admitted, per API key id" });
    this.keyTokens = meter.createCounter("caravan.key.tokens", { unit: "{token}", description: "Tokens used (input and output), per API key id" });
    this.queueDepth = meter.createObservableGauge("caravan.queue.depth", { description: "Requests waiting for a worker, per model (cluster-wide)" });
    // Every model a worker advertises has a series (0 when nothing waits), and a model whose
    // queue emptied is reported as 0, not left at its last depth.
    const seen = new Set<string>();
    this.observeQueues = async (result) => {
      const [stats, workers] = await Promise.all([transport.queueStats(), transport.workers()]).catch(() => [undefined, []] as const);
      if (!stats) return;
      const waiting = new Map(stats.map((s) => [s.model, s.waiting]));
      for (const model of waiting.keys()) seen.add(model);
      for (const worker of workers) for (const model of worker.models) seen.add(model.name);
      for (const model of seen) result.observe(waiting.get(model) ?? 0, { [ATTR.requestModel]: model });
    };
    this.queueDepth.addCallback(this.observeQueues);
  }

  /** Telemetry that records nothing (tests, OTEL_SDK_DISABLED). */
  static disabled(transport: Pick<GatewayTransport, "queueStats" | "workers">): GatewayTelemetry {
    return new GatewayTelemetry(disabledTelemetry(), transport);
  }

  /** Stops observing the queues (the transport may be closing). Idempotent. */
  close(): void {
    this.queueDepth.removeCallback(this.observeQueues);
  }
}
