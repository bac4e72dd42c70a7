import { isTerminalEvent, type JobEvent } from "@caravan/protocol";

/** How long a terminal event may wait for an earlier, missing one before the stream is failed. */
const GAP_TIMEOUT_MS = 2000;

/**
 * A job's events as an async iterator, in sequence order. Transports deliver in order, but the
 * gateway does not rely on it: out-of-order events wait for the missing ones, and a gap that
 * does not close turns into an error instead of a silently corrupted answer. The iterator ends
 * after the first terminal event (done or error).
 */
export class JobEvents implements AsyncIterable<JobEvent> {
  private nextSeq = 0;
  private readonly early = new Map<number, JobEvent>();
  private readonly ready: JobEvent[] = [];
  private waiter: (() => void) | undefined;
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

  async *[Symbol.asyncIterator](): AsyncIterator<JobEvent> {
    while (true) {
      const event = this.ready.shift();
      if (event) {
        yield event;
        if (isTerminalEvent(event)) return;
        continue;
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
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
    this.ready.push(event);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
