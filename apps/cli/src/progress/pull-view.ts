import type { PullProgress } from "../client/types.ts";
import { humanBytes } from "../format/human.ts";
import { ProgressBar } from "./bar.ts";
import { Spinner } from "./spinner.ts";
import type { TerminalProgress } from "./terminal-progress.ts";

/** Shows a pull's progress lines as they come. */
export interface PullView {
  update(progress: PullProgress): void;
  /** the pull ended (well or not): leave the screen tidy */
  finish(): void;
}

/** "pulling 6a0746a1ec1a:" for a "sha256:…" digest, as Ollama labels a layer. */
function layerLabel(digest: string): string {
  const name = digest.startsWith("sha256:") ? digest.slice(7).trim().slice(0, 12) : digest.trim();
  return `pulling ${name}:`;
}

/**
 * On a terminal, Ollama's display: a spinner per status line, a bar per layer. A layer's first
 * line (completed 0) is skipped, as Ollama does, so a not-yet-started layer shows no 0 % bar.
 */
export class TerminalPullView implements PullView {
  private readonly bars = new Map<string, ProgressBar>();
  private status = "";
  private spinner: Spinner | undefined;

  constructor(
    private readonly progress: TerminalProgress,
    private readonly now: () => number = Date.now,
  ) {}

  update(p: PullProgress): void {
    const now = this.now();
    if (p.digest) {
      if (!p.completed) return;
      this.spinner?.stop(now);
      let bar = this.bars.get(p.digest);
      if (!bar) {
        bar = new ProgressBar(layerLabel(p.digest), p.total ?? 0, p.completed, now);
        this.bars.set(p.digest, bar);
        this.progress.add(bar);
      }
      bar.set(p.completed, now);
    } else if (p.status !== this.status) {
      this.spinner?.stop(now);
      this.status = p.status;
      this.spinner = new Spinner(p.status, now);
      this.progress.add(this.spinner);
    }
  }

  finish(): void {
    this.progress.stop();
  }
}

/**
 * Not a terminal (a pipe, a log file): plain lines. Each new status once; a layer at every tenth
 * of its size, so a long download writes a few lines, not thousands.
 */
export class PlainPullView implements PullView {
  private status = "";
  private readonly tenths = new Map<string, number>();

  constructor(private readonly write: (line: string) => void) {}

  update(p: PullProgress): void {
    if (p.digest) {
      if (!p.completed) return;
      const total = p.total ?? 0;
      const percent = total > 0 ? Math.min(100, Math.floor((p.completed / total) * 100)) : 0;
      const tenth = Math.floor(percent / 10);
      if (this.tenths.get(p.digest) === tenth) return;
      this.tenths.set(p.digest, tenth);
      this.write(`${layerLabel(p.digest)} ${percent}% (${humanBytes(p.completed)}/${humanBytes(total)})`);
    } else if (p.status !== this.status) {
      this.status = p.status;
      this.write(p.status);
    }
  }

  finish(): void {}
}
