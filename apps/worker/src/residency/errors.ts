import { WorkerError } from "../errors.ts";

/** The model cannot fit beside the models that are busy or loading; nothing was evicted. */
export class NoRoomError extends WorkerError {
  readonly code = "no_room";
  constructor(message: string) {
    super(message);
    this.name = "NoRoomError";
  }
}

/**
 * The model, loaded with the options asked for, would need more memory than this worker's whole
 * budget: refused before anything is allocated. The request's fault when an option (num_ctx)
 * made it so; the message names the option and the budget.
 */
export class TooLargeError extends WorkerError {
  readonly code = "too_large";
  constructor(message: string) {
    super(message);
    this.name = "TooLargeError";
  }
}

/** unloadAll() was called: the worker is shutting down and takes no new loads or jobs. */
export class ResidencyClosedError extends WorkerError {
  readonly code = "draining";
  constructor(model: string) {
    super(`cannot use ${model}: this worker is shutting down`);
    this.name = "ResidencyClosedError";
  }
}
