import type { Logprob, ToolCall } from "@caravan/protocol";
import { SendWindow } from "@caravan/transport/send-window";

/** What one `chunk` event carries. */
export interface ChatChunk {
  content: string;
  thinking?: string;
  tool_calls?: ToolCall[];
  logprobs?: Logprob[];
}

/**
 * ChunkBatcher's batching for everything a chat answer streams: content, thinking, tool calls
 * and logprobs. The first text of a job goes out at once; text that follows within `windowMs`
 * of the last send travels in one chunk. Sends are chained, so chunks leave in order.
 *
 * Order is kept across kinds: a chunk holds content or thinking, never both (a switch sends what
 * is pending first), and a tool call, which arrives whole, goes out in a chunk of its own after
 * the text before it. Logprob entries come right before the text they produced (the engine's
 * onLogprob contract) and go in the chunk that text goes in, so a chunk's entries join to exactly
 * its content or thinking; they never cause a send of their own. Whatever is left goes out on drain().
 */
export class ChunkBatcher {
  private kind: "content" | "thinking" = "content";
  private text = "";
  /** the entries of `text` */
  private logprobs: Logprob[] = [];
  /** entries given since the last text: they belong to the next one */
  private upcoming: Logprob[] = [];
  private readonly window: SendWindow;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly send: (chunk: ChatChunk) => Promise<void>,
    windowMs = 5,
  ) {
    this.window = new SendWindow(windowMs, () => this.sendText());
  }

  /** content text (the same call as ChunkBatcher's) */
  push(text: string): void {
    this.pushText("content", text);
  }

  thinking(text: string): void {
    this.pushText("thinking", text);
  }

  /** an entry of the text pushed next */
  logprob(entry: Logprob): void {
    this.upcoming.push(entry);
  }

  toolCall(call: ToolCall): void {
    if (this.text !== "") this.window.flush();
    this.enqueue({ content: "", tool_calls: [call] });
    this.window.sent();
  }

  /** Sends whatever is pending and waits until every chunk so far has been handed over. */
  async drain(): Promise<void> {
    this.window.flush();
    await this.chain;
  }

  private pushText(kind: "content" | "thinking", text: string): void {
    if (text === "") return;
    if (kind !== this.kind && this.text !== "") this.window.flush();
    this.kind = kind;
    this.text += text;
    if (this.upcoming.length > 0) {
      this.logprobs.push(...this.upcoming);
      this.upcoming = [];
    }
    this.window.due();
  }

  /** The pending text (and its logprobs) as one chunk; false when there is none. */
  private sendText(): boolean {
    if (this.text === "") return false;
    const text = this.text;
    this.text = "";
    this.enqueue(this.kind === "thinking" ? { content: "", thinking: text, ...this.takeLogprobs() } : { content: text, ...this.takeLogprobs() });
    return true;
  }

  private takeLogprobs(): { logprobs?: Logprob[] } {
    if (this.logprobs.length === 0) return {};
    const logprobs = this.logprobs;
    this.logprobs = [];
    return { logprobs };
  }

  private enqueue(chunk: ChatChunk): void {
    this.chain = this.chain.then(() => this.send(chunk));
  }
}
