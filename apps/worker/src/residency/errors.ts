/** The model cannot fit beside the models that are busy or loading; nothing was evicted. */
export class NoRoomError extends Error {
  readonly code = "no_room";
  constructor(message: string) {
    super(message);
    this.name = "NoRoomError";
  }
}

/** unloadAll() was called: the worker is shutting down and takes no new loads or jobs. */
export class ResidencyClosedError extends Error {
  readonly code = "draining";
  constructor(model: string) {
    super(`cannot use ${model}: this worker is shutting down`);
    this.name = "ResidencyClosedError";
  }
}
