import type { ProgressState } from "./bar.ts";
import { Spinner } from "./spinner.ts";

/** The part of a TTY stream the renderer uses (process.stderr, or a fake in tests). */
export interface TerminalStream {
  write(text: string): unknown;
  columns?: number;
  rows?: number;
}

const ESC = "\u001b[";

/**
 * Ollama's progress renderer: a stack of lines (spinners, bars) redrawn in place every 100 ms,
 * for a terminal only. `stop()` leaves the last drawing on screen; `stopAndClear()` erases it.
 * Both are safe to call twice.
 */
export class TerminalProgress {
  private readonly states: ProgressState[] = [];
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: TerminalStream,
    private readonly now: () => number = Date.now,
    intervalMs = 100,
  ) {
    this.timer = setInterval(() => this.render(), intervalMs);
    this.timer.unref();
  }

  add(state: ProgressState): void {
    this.states.push(state);
  }

  stop(): void {
    if (!this.halt()) return;
    this.render();
    this.stream.write("\n");
  }

  stopAndClear(): void {
    if (!this.halt()) return;
    let text = `${ESC}?25l`;
    for (let i = 0; i < this.drawn; i++) text += `${i > 0 ? `${ESC}A` : ""}${ESC}2K${ESC}1G`;
    this.stream.write(`${text}${ESC}?25h`);
    this.drawn = 0;
  }

  render(): void {
    const width = this.stream.columns || 80;
    const height = this.stream.rows || 24;
    const now = this.now();
    const shown = this.states.slice(-height);
    let text = `${ESC}?2026h${ESC}?25l`;
    for (let i = 0; i < this.drawn - 1; i++) text += `${ESC}A`;
    text += `${ESC}1G`;
    text += shown.map((state) => `${state.render(width, now)}${ESC}K`).join("\n");
    this.stream.write(`${text}${ESC}?25h${ESC}?2026l`);
    this.drawn = shown.length;
  }

  /** stops the timer and the spinners; false when already stopped */
  private halt(): boolean {
    if (!this.timer) return false;
    clearInterval(this.timer);
    this.timer = undefined;
    const now = this.now();
    for (const state of this.states) if (state instanceof Spinner) state.stop(now);
    return true;
  }
}
