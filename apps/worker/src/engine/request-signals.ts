/**
 * The signals a loaded model's requests run under: each aborts when its caller's signal does or
 * when the model is disposed, with the reason of whichever came first.
 *
 * `AbortSignal.any([caller, closing])` says the same, but on Node 20 every call leaves an entry
 * in the long-lived `closing` signal's set of dependants that nothing removes
 * (nodejs/node#55351, #54614): an engine's heap grew by ~53 bytes with every request it served,
 * for as long as the worker ran (25 MiB after 500k requests, measured). Here a request has a
 * controller of its own, listed only while it runs.
 */
export class RequestSignals {
  private readonly closing = new AbortController();
  private readonly running = new Set<AbortController>();

  /** Aborted once close() ran. */
  get closed(): AbortSignal {
    return this.closing.signal;
  }

  /** Runs `work` under a signal that aborts with `caller` or on close(); forgets it once `work` settles. */
  async run<T>(caller: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(caller.reason);
    if (this.closing.signal.aborted) controller.abort(this.closing.signal.reason);
    else if (caller.aborted) controller.abort(caller.reason);
    else {
      caller.addEventListener("abort", onAbort, { once: true });
      this.running.add(controller);
    }
    try {
      return await work(controller.signal);
    } finally {
      caller.removeEventListener("abort", onAbort);
      this.running.delete(controller);
    }
  }

  /** Aborts every running request's signal, and every later one's at once, with `reason`. */
  close(reason: unknown): void {
    this.closing.abort(reason);
    for (const controller of this.running) controller.abort(reason);
    this.running.clear();
  }
}
