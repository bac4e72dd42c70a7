import { isTerminalEvent, type JobEvent } from "@caravan/protocol";

/** How long a terminal event may wait for an earlier, missing one before the stream is failed. */
const GAP_TIMEOUT_MS = 2000;

/**
 * A job's events in sequence order, handed to one sink (its JobRun): the one place the gateway
 * orders them. Transports deliver in order, but the gateway does not rely on it: out-of-order events wait for the missing ones, and a gap that
 * does not close turns into an error instead of a silently corrupted answer. Nothing follows
 * the first terminal event (done or error). Events that come before the sink is attached are
 * kept for it; after that each is handed over synchronously, as it arrives (a token costs no
 * promise here: this runs for every token of every stream).
 */
export class JobEvents {
  private nextSeq = 0;
  private readonly early = new Map<number, JobEvent>();
  private readonly ready: JobEvent[] = [];
  private sink: ((event: JobEvent) => void) | undefined;
  private finished = false;
  private gapTimer: NodeJS.Timeout | undefined;

  /** Feeds one event from the transport. */
  push = (event: JobEvent): void => {
    if (this.finished) return;
    // A transport-made error (seq -1) ends the stream at once: nothing more will come.
    if (event.type === "error" && event.seq < 0) return this.enqueue(event);
    if (event.seq < this.nextSeq) return; // a duplicate
    this.early.set(event.seq, event);
    while (this.early.has(this.nextSeq)) {
      const next = this.early.get(this.nextSeq)!;
      this.early.delete(this.nextSeq++);
      this.enqueue(next);
      if (this.finished) return;
    }
    if (this.early.size > 0 && !this.gapTimer) {
      this.gapTimer = setTimeout(() => {
        this.enqueue({ v: 1, type: "error", id: event.id, seq: -1, code: "internal", message: `lost chunks: message ${this.nextSeq} never arrived` });
      }, GAP_TIMEOUT_MS);
    }
  };

  /** Ends the stream with an error that did not come from the worker (e.g. a timeout). */
  fail(event: JobEvent): void {
    if (!this.finished) this.enqueue(event);
  }

  /** Hands `sink` the events kept so far, then every later one as it arrives. */
  deliverTo(sink: (event: JobEvent) => void): void {
    this.sink = sink;
    for (const event of this.ready.splice(0)) sink(event);
  }

  private enqueue(event: JobEvent): void {
    if (isTerminalEvent(event)) {
      this.finished = true;
      clearTimeout(this.gapTimer);
      this.early.clear();
    } else if (this.early.size === 0) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
    }
    if (this.sink) this.sink(event);
    else this.ready.push(event);
  }
}
