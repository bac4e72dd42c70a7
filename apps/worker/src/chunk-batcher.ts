import type { Logprob, ToolCall } from "@caravan/protocol";

/** What one `chunk` event carries. */
export interface ChatChunk {
  content: string;
  thinking?: string;
  tool_calls?: ToolCall[];
  logprobs?: Logprob[];
}

/**
 * A job's streamed output (content, thinking, tool calls, logprobs) on its way to the transport,
 * merged while the transport still holds what it was handed last. It keeps no clock: the window
 * is the transport's (see JobContext.emit). What comes while `send` has not resolved waits and is
 * merged; the moment it resolves, all of it is handed over. So the first text goes at once, a slow
 * stream's every piece goes at once, and a fast one's pieces leave once per window.
 *
 * Order is kept across kinds: a chunk holds content or thinking, never both (a switch starts a new
 * chunk), and a tool call, which arrives whole, goes in a chunk of its own after the text before
 * it. Logprob entries come right before the text they produced (the engine's onLogprob contract)
 * and go in the chunk that text goes in, so a chunk's entries join to exactly its content or
 * thinking; they never cause a send of their own.
 */
export class ChunkBatcher {
  /** chunks waiting for the transport, in order; the last one's text may still grow */
  private waiting: ChatChunk[] = [];
  /** entries given since the last text: they belong to the next one */
  private upcoming: Logprob[] = [];
  /** settles once the transport has sent what it was handed last; undefined: it holds nothing of ours */
  private busy: Promise<void> | undefined;
  /** the last chunk handed over, as `send` answered it */
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly send: (chunk: ChatChunk) => Promise<void>) {}

  /** content text */
  push(text: string): void {
    this.text("content", text);
  }

  thinking(text: string): void {
    this.text("thinking", text);
  }

  /** an entry of the text pushed next */
  logprob(entry: Logprob): void {
    this.upcoming.push(entry);
  }

  toolCall(call: ToolCall): void {
    this.waiting.push({ content: "", tool_calls: [call] });
    if (!this.busy) this.handOver();
  }

  /**
   * Undefined when what comes next goes out at once; otherwise settles when the transport is
   * ready for more (what came meanwhile has then been handed over). A producer across a process
   * boundary (an isolated runner) holds its pieces until then, so that they cross in one message.
   */
  ready(): Promise<void> | undefined {
    return this.busy;
  }

  /** Hands over whatever waits, now, and waits until the transport has sent it. */
  async drain(): Promise<void> {
    if (this.waiting.length > 0) this.handOver();
    await this.last;
  }

  private text(kind: "content" | "thinking", text: string): void {
    if (text === "") return;
    const last = this.waiting.at(-1);
    const chunk = last && !last.tool_calls && (kind === "thinking") === (last.thinking !== undefined) ? last : this.open(kind);
    if (kind === "thinking") chunk.thinking += text;
    else chunk.content += text;
    if (this.upcoming.length > 0) {
      (chunk.logprobs ??= []).push(...this.upcoming);
      this.upcoming = [];
    }
    if (!this.busy) this.handOver();
  }

  private open(kind: "content" | "thinking"): ChatChunk {
    const chunk: ChatChunk = kind === "thinking" ? { content: "", thinking: "" } : { content: "" };
    this.waiting.push(chunk);
    return chunk;
  }

  /** Everything waiting to the transport, in order; the next hand-over waits until it has been sent. */
  private handOver(): void {
    const chunks = this.waiting;
    this.waiting = [];
    for (const chunk of chunks) this.last = this.send(chunk);
    const busy: Promise<void> = this.last.then(
      () => this.taken(busy),
      () => this.taken(busy),
    );
    this.busy = busy;
  }

  private taken(busy: Promise<void>): void {
    if (this.busy !== busy) return; // drain() handed more over meanwhile: that one decides
    this.busy = undefined;
    if (this.waiting.length > 0) this.handOver();
  }
}
