/**
 * Coalesces text produced within one turn of the event loop into a single chunk. When tokens
 * come faster than a message's round trip (tiny models do thousands per second), this bounds
 * the message rate without delaying a lone token: the flush runs right after the current turn.
 * Sends are chained so chunks leave in the order their text was produced.
 */
export class ChunkBatcher {
  private buffer = "";
  private scheduled = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly send: (text: string) => Promise<void>) {}

  push(text: string): void {
    if (text === "") return;
    this.buffer += text;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flushBuffer());
  }

  /** Sends whatever is buffered and waits until every chunk so far has been handed over. */
  async drain(): Promise<void> {
    this.flushBuffer();
    await this.chain;
  }

  private flushBuffer(): void {
    this.scheduled = false;
    if (this.buffer === "") return;
    const text = this.buffer;
    this.buffer = "";
    this.chain = this.chain.then(() => this.send(text));
  }
}
