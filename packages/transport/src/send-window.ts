/**
 * The rule the transport batches a job's events by, in its one window (EventWindow in one
 * process, EventOutbox over Redis; see event-window.ts): what comes while the destination has
 * been quiet for `windowMs` goes at once, so a quiet stream pays no delay; what comes faster waits
 * for the rest of the window and leaves together with whatever else came, so a busy one sends at
 * most one message per window. Each message costs both processes a write, a wake-up and a read,
 * whatever its size.
 *
 * The window holds no data: its owner keeps what waits, and `send` sends it all.
 */
export class SendWindow {
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private lastSentAt = -Infinity;

  /**
   * @param send sends whatever waits; false when nothing did (that starts no window)
   * @param endOfTurn "at once" means at the end of the current event-loop turn, so that what else
   *   the turn produces (a batching engine releases all its streams' tokens together) travels in
   *   the same message; otherwise it means synchronously, inside due()
   */
  constructor(
    private readonly windowMs: number,
    private readonly send: () => boolean,
    private readonly endOfTurn = false,
  ) {}

  /** Something waits: sent at once if the window is over (or it is `urgent`), else when the window ends. */
  due(urgent = false): void {
    if (this.soon) return;
    if (urgent || (!this.timer && performance.now() - this.lastSentAt >= this.windowMs)) {
      if (!this.endOfTurn) return this.flush();
      clearTimeout(this.timer);
      this.timer = undefined;
      this.soon = setImmediate(() => this.flush());
    } else {
      this.timer ??= setTimeout(() => this.flush(), this.lastSentAt + this.windowMs - performance.now());
    }
  }

  /** Sends whatever waits, now. */
  flush(): void {
    clearTimeout(this.timer);
    clearImmediate(this.soon);
    this.timer = undefined;
    this.soon = undefined;
    if (this.send()) this.lastSentAt = performance.now();
  }

  /** Nothing is scheduled and nothing was sent for a window: as good as a window never used. */
  get quiet(): boolean {
    return this.timer === undefined && this.soon === undefined && performance.now() - this.lastSentAt >= this.windowMs;
  }
}
