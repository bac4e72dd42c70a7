import type { ProgressState } from "./bar.ts";

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Ollama's spinner line: `message ⠋ ` turning every 100 ms, the message alone once stopped. */
export class Spinner implements ProgressState {
  private stoppedAt: number | undefined;

  constructor(
    readonly message: string,
    private readonly started: number,
  ) {}

  stop(now: number): void {
    this.stoppedAt ??= now;
  }

  render(_termWidth: number, now: number): string {
    const message = this.message.trim();
    const head = message ? `${message} ` : "";
    if (this.stoppedAt !== undefined) return head;
    return `${head}${FRAMES[Math.trunc((now - this.started) / 100) % FRAMES.length]} `;
  }
}
