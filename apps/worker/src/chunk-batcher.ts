/**
 * Coalesces text into chunks. The first text of a job goes out at once (time to first token
 * is not delayed); after that, text produced within `windowMs` of the last send travels in one
 * chunk. Slow models (a GPU serving a large model at 20–100 tokens/s) still send one token per
 * chunk; tiny or fast models, whose tokens come faster than a chunk costs to publish and write,
 * send a few per chunk instead of spending the sampling loop's time on per-token messages.
 * Sends are chained so chunks leave in the order their text was produced.
 */
export class ChunkBatcher {
  private buffer = "";
  private timer: NodeJS.Timeout | undefined;
  private lastSentAt = -Infinity;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly send: (text: string) => Promise<void>,
    private readonly windowMs = 5,
  ) {}

  push(text: string): void {
    if (text === "") return;
    this.buffer += text;
    if (this.timer) return;
    const wait = this.lastSentAt + this.windowMs - performance.now();
    if (wait <= 0) this.flushBuffer();
    else this.timer = setTimeout(() => this.flushBuffer(), wait);
  }

  /** Sends whatever is buffered and waits until every chunk so far has been handed over. */
  async drain(): Promise<void> {
    this.flushBuffer();
    await this.chain;
  }

  private flushBuffer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer === "") return;
    const text = this.buffer;
    this.buffer = "";
    this.lastSentAt = performance.now();
    this.chain = this.chain.then(() => this.send(text));
  }
}
