/**
 * How long a worker remembers a cancel for a job it is not running. A gateway that cancels
 * also removes the job from its queue; the job can still reach a worker only if the worker took
 * it in the same moment (its queue answered that the job is locked), so a cancel heard first
 * is needed for that moment only. A minute covers any pause of a busy process.
 */
const REMEMBER_MS = 60_000;
/** A storm of cancels must not grow the memory without bound. */
const MAX_REMEMBERED = 10_000;
/**
 * Clocks of different machines differ, and a reconnected subscriber takes a moment to subscribe
 * again: a job accepted less than this after the subscriber (re)connected may have been
 * cancelled while it was not listening.
 */
const LISTENING_MARGIN_MS = 30_000;

/**
 * The cancels a worker heard on the broadcast channel for jobs it was not running (yet), and
 * since when it has been listening without a break. A job taken after its cancel was heard is
 * stopped before it starts; a job accepted while the worker was not listening must be checked
 * against the cancel marker in Redis instead (one round trip per job, which steady operation
 * does without).
 */
export class HeardCancels {
  private readonly heard = new Map<string, { reason: string; at: number }>();
  /** epoch ms since which the subscriber has been subscribed without a break; none while not */
  private listeningSince: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  listening(): void {
    this.listeningSince ??= this.now();
  }

  deaf(): void {
    this.listeningSince = undefined;
  }

  remember(id: string, reason: string): void {
    const now = this.now();
    // Entries go in arrival order: the oldest are first.
    for (const [old, { at }] of this.heard) {
      if (now - at < REMEMBER_MS && this.heard.size < MAX_REMEMBERED) break;
      this.heard.delete(old);
    }
    this.heard.set(id, { reason, at: now });
  }

  /** The reason the job was cancelled, if a cancel for it was heard (forgotten once asked). */
  take(id: string): string | undefined {
    const entry = this.heard.get(id);
    this.heard.delete(id);
    return entry && this.now() - entry.at < REMEMBER_MS ? entry.reason : undefined;
  }

  /** Whether every cancel for a job the gateway accepted at `acceptedAt` reached this worker. */
  heardAllSince(acceptedAt: number): boolean {
    return this.listeningSince !== undefined && acceptedAt > this.listeningSince + LISTENING_MARGIN_MS;
  }
}
