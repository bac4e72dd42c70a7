import type { DoneMessage, JobMessage } from "@caravan/protocol";
import { ATTR, genAiOperationName, genAiRequestAttributes, injectTraceContext, SpanStatusCode, type Attributes, type Span, type TraceCarrier } from "@caravan/telemetry";
import type { Logger } from "pino";
import type { GatewayTelemetry } from "./gateway-telemetry.ts";

/** Why a request was refused before it ran (caravan.reject.reason), from its error code and status. */
const REJECT_REASONS: Record<string, string> = {
  server_busy: "queue_full",
  capability: "capability",
  bad_request: "bad_request",
  invalid_value: "bad_request",
  model_not_found: "not_found",
  unknown_url: "not_found",
  method_not_allowed: "method_not_allowed",
  too_large: "too_large",
  unavailable: "unavailable",
  invalid_api_key: "unauthorized",
  rate_limited: "rate_limited",
  forbidden_host: "forbidden_host",
  forbidden_origin: "forbidden_origin",
};

/** What the job's run tells about where and after how long it started. */
export interface RunFacts {
  readonly workerId: string | undefined;
  readonly queueWaitMs: number | undefined;
  readonly coldStart: boolean;
}

/** How a request ended, as the HTTP layer saw it. */
export interface HttpOutcome {
  status: number;
  /** the error code of a thrown HttpError (or "internal" for anything else) */
  errorCode?: string;
  errorMessage?: string;
}

/**
 * One HTTP request's telemetry: its server span, what its job did, and at its end the metrics and
 * the "request" log line. It ends when both the handler has returned (the middleware releases
 * it) and a streamed answer has been written to its end (the stream holds it until then).
 * Never holds prompt or output text.
 */
export class RequestRecord {
  private readonly arrivedAt = performance.now();
  private holds = 1;
  private outcome: HttpOutcome | undefined;
  private job: { model: string; operation: string; id: string; attributes: Attributes } | undefined;
  private run: RunFacts | undefined;
  private ttftMs: number | undefined;
  private done: DoneMessage | undefined;
  /** an error after the answer began (the status is 200 by then) */
  private failure: { code: string; message: string } | undefined;

  constructor(
    readonly span: Span,
    private readonly telemetry: GatewayTelemetry,
    private readonly log: Logger,
    private readonly http: { method: string; path: string },
  ) {}

  /** The job this request runs: its attributes go on the span; returns the trace context the job carries. */
  beginJob(job: JobMessage): TraceCarrier | undefined {
    const attributes = genAiRequestAttributes(job);
    this.job = { model: job.model, operation: genAiOperationName(job.kind), id: job.id, attributes };
    this.span.setAttributes({ ...attributes, [ATTR.jobId]: job.id });
    return injectTraceContext(this.span);
  }

  attachRun(run: RunFacts): void {
    this.run = run;
  }

  /** The first token is about to be written. */
  firstToken(): void {
    if (this.ttftMs !== undefined || !this.job) return;
    this.ttftMs = performance.now() - this.arrivedAt;
    this.telemetry.timeToFirstToken.record(this.ttftMs / 1000, this.modelAttributes());
  }

  finished(done: DoneMessage): void {
    this.done = done;
  }

  /** The job failed after its answer began (an error line or event; the status stays 200). */
  failed(code: string, message: string): void {
    this.failure ??= { code, message };
  }

  /** Keeps the record open (a stream still writing); returns its release, safe to call twice. */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.release();
    };
  }

  /** The handler returned (or threw) with this outcome. */
  complete(outcome: HttpOutcome): void {
    this.outcome = outcome;
    this.release();
  }

  private release(): void {
    if (--this.holds === 0) this.end();
  }

  private modelAttributes(): Attributes {
    return this.job ? { [ATTR.requestModel]: this.job.model, [ATTR.operationName]: this.job.operation } : {};
  }

  private end(): void {
    const durationMs = performance.now() - this.arrivedAt;
    const status = this.outcome?.status ?? 500;
    const errorType = this.failure?.code ?? this.outcome?.errorCode ?? (status >= 400 ? String(status) : undefined);
    const { done, run, job } = this;
    // The job waited for a load placed for it, or did one itself on its worker.
    const coldStart = run || done ? Boolean(run?.coldStart) || (done?.metrics.load_duration ?? 0) > 0 : undefined;
    const workerId = done?.worker_id ?? run?.workerId;

    const attributes: Attributes = { "http.response.status_code": status };
    if (errorType) attributes[ATTR.errorType] = errorType;
    if (workerId) attributes[ATTR.workerId] = workerId;
    if (run?.queueWaitMs !== undefined) attributes[ATTR.queueWaitMs] = run.queueWaitMs;
    if (coldStart !== undefined) attributes[ATTR.coldStart] = coldStart;
    if (done) {
      attributes[ATTR.responseModel] = job?.model ?? "";
      attributes[ATTR.finishReasons] = [done.done_reason];
      attributes[ATTR.inputTokens] = done.metrics.prompt_eval_count;
      attributes[ATTR.cachedInputTokens] = done.metrics.prompt_cached_count ?? 0;
      if (job?.operation !== "embeddings") attributes[ATTR.outputTokens] = done.metrics.eval_count;
    }
    this.span.setAttributes(attributes);
    // A 4xx is the client's doing: not an error of this server span (HTTP semantic conventions).
    if (status >= 500 || this.failure) this.span.setStatus({ code: SpanStatusCode.ERROR, message: this.failure?.message ?? this.outcome?.errorMessage });
    this.span.end();

    this.recordMetrics(durationMs, status, errorType);
    this.log.info(
      {
        trace_id: this.span.spanContext().traceId,
        method: this.http.method,
        path: this.http.path,
        model: job?.model,
        worker: workerId,
        status,
        done_reason: done?.done_reason,
        ttft_ms: round(this.ttftMs),
        duration_ms: round(durationMs),
        queue_wait_ms: round(run?.queueWaitMs),
        prompt_tokens: done?.metrics.prompt_eval_count,
        cached_prompt_tokens: done?.metrics.prompt_cached_count,
        output_tokens: done && job?.operation !== "embeddings" ? done.metrics.eval_count : undefined,
        error: this.failure?.message ?? this.outcome?.errorMessage,
      },
      "request",
    );
  }

  private recordMetrics(durationMs: number, status: number, errorType: string | undefined): void {
    const { telemetry, done, job } = this;
    const model = this.modelAttributes();
    const rejectReason = this.failure ? undefined : rejection(status, this.outcome?.errorCode);
    if (rejectReason) telemetry.rejected.add(1, { ...model, [ATTR.rejectReason]: rejectReason });
    else if (errorType) telemetry.errors.add(1, { ...model, [ATTR.errorType]: errorType });
    if (!job) return;
    telemetry.requestDuration.record(durationMs / 1000, errorType ? { ...model, [ATTR.errorType]: errorType } : model);
    if (!done) return;
    telemetry.tokenUsage.record(done.metrics.prompt_eval_count, { ...model, [ATTR.tokenType]: "input" });
    const cached = done.metrics.prompt_cached_count ?? 0;
    if (cached > 0) telemetry.cachedPromptTokens.add(cached, model);
    if (job.operation === "embeddings") return;
    telemetry.tokenUsage.record(done.metrics.eval_count, { ...model, [ATTR.tokenType]: "output" });
    if (done.metrics.eval_count > 1) telemetry.timePerOutputToken.record(done.metrics.eval_duration / 1e9 / (done.metrics.eval_count - 1), model);
  }
}

/** The reject reason of a request refused before it ran; undefined for one that ran (or failed running). */
function rejection(status: number, code: string | undefined): string | undefined {
  if (status < 400 || status === 499) return undefined;
  const reason = code === undefined ? (status === 404 ? "not_found" : undefined) : REJECT_REASONS[code];
  if (reason) return reason;
  return status < 500 ? (code ?? String(status)) : undefined;
}

const round = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms * 10) / 10);
