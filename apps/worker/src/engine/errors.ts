import type { WorkerMetrics } from "@caravan/protocol";
import { WorkerError, type WorkerErrorCode } from "../errors.ts";

/** Errors the engine throws, each with its stable code (see WIRE_CODES for how it goes on the wire). */
export class EngineError extends WorkerError {
  readonly code: WorkerErrorCode = "engine_error";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EngineError";
  }
}

/** What an aborted generation had produced (its text already went out through onText). */
export interface PartialGeneration {
  text: string;
  metrics: WorkerMetrics;
}

/**
 * The request's signal aborted: while it waited for a slot or the model, or while it generated.
 * `partial` is set when the abort stopped a generation that had produced text.
 */
export class GenerationAbortedError extends EngineError {
  override readonly code = "cancelled";
  constructor(
    reason?: unknown,
    readonly partial?: PartialGeneration,
  ) {
    super("generation aborted", { cause: reason });
    // The conventional name, so `error.name === "AbortError"` checks work as for fetch().
    this.name = "AbortError";
  }
}

/** The engine was closed while the request waited or ran, or after. */
export class EngineClosedError extends EngineError {
  constructor() {
    super("engine closed");
    this.name = "EngineClosedError";
  }
}

export function abortError(signal: AbortSignal): GenerationAbortedError {
  return new GenerationAbortedError(signal.reason);
}

/** The request asks for something the engine cannot do as asked (e.g. a JSON schema it cannot compile). */
export class EngineRequestError extends EngineError {
  override readonly code = "bad_request";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EngineRequestError";
  }
}
