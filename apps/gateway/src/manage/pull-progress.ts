import type { ProgressResponse } from "@caravan/protocol";

export const VERIFYING = "verifying sha256 digest";

interface WorkerBytes {
  total: number;
  completed: number;
}

/**
 * Merges the progress of one pull running on several workers into the single stream an Ollama
 * client expects: one bar whose `total` and `completed` are summed over the workers (the official
 * JS client ends its iteration at the first `success` and shows one bar per digest, so per-worker
 * lines would be read as one bar jumping between workers' values). Byte lines go out at most every
 * `everyMs`, and always when every worker has all its bytes; `verifying sha256 digest` goes out
 * once, when every worker is verifying or done; any other status once, as it first arrives.
 */
export class PullProgressMerger {
  private readonly bytes = new Map<string, WorkerBytes>();
  private readonly verifying = new Set<string>();
  private readonly finished = new Set<string>();
  private readonly statuses = new Set<string>();
  private head: { status: string; digest?: string } | undefined;
  private lastEmitAt = Number.NEGATIVE_INFINITY;
  private pending = false;
  private lastSent: string | undefined;

  constructor(
    private readonly workers: readonly string[],
    private readonly emit: (line: ProgressResponse) => void,
    private readonly everyMs = 100,
    private readonly now: () => number = Date.now,
  ) {}

  progress(workerId: string, progress: ProgressResponse): void {
    if (progress.completed !== undefined) {
      this.head ??= { status: progress.status, digest: progress.digest };
      this.bytes.set(workerId, { total: progress.total ?? progress.completed, completed: progress.completed });
      this.pending = true;
      if (this.allBytesIn() || this.now() - this.lastEmitAt >= this.everyMs) this.flush();
      return;
    }
    this.flush();
    if (progress.status === VERIFYING) {
      this.verifying.add(workerId);
      this.maybeVerifying();
    } else if (!this.statuses.has(progress.status)) {
      this.statuses.add(progress.status);
      this.emit(progress);
    }
  }

  /** The worker answered (success or not): it reports nothing more. */
  done(workerId: string): void {
    this.finished.add(workerId);
    this.flush();
    this.maybeVerifying();
  }

  /** Sends the latest summed byte counts if they have not gone out yet. */
  flush(): void {
    if (!this.pending || !this.head) return;
    this.pending = false;
    let total = 0;
    let completed = 0;
    for (const worker of this.bytes.values()) {
      total += worker.total;
      completed += worker.completed;
    }
    const line: ProgressResponse = { status: this.head.status, ...(this.head.digest !== undefined && { digest: this.head.digest }), total, completed };
    const key = JSON.stringify(line);
    if (key === this.lastSent) return; // a keepalive repeat: nothing new to show
    this.lastSent = key;
    this.lastEmitAt = this.now();
    this.emit(line);
  }

  private allBytesIn(): boolean {
    if (this.workers.some((id) => !this.bytes.has(id) && !this.finished.has(id))) return false;
    return [...this.bytes.values()].every((worker) => worker.completed >= worker.total);
  }

  private maybeVerifying(): void {
    if (this.verifying.size === 0 || this.statuses.has(VERIFYING)) return;
    if (!this.workers.every((id) => this.verifying.has(id) || this.finished.has(id))) return;
    this.statuses.add(VERIFYING);
    this.emit({ status: VERIFYING });
  }
}
