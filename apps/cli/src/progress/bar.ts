import { goDuration } from "../format/go-duration.ts";
import { humanBytes } from "../format/human.ts";

/** A line the terminal renderer redraws: a bar or a spinner. */
export interface ProgressState {
  render(termWidth: number, now: number): string;
}

/**
 * One layer's download bar, drawn as Ollama draws it:
 * `pulling 6a0746a1ec1a:  45% ▕████████          ▏ 1.2 GB/2.7 GB   21 MB/s   1m10s`.
 * The rate is over the last ten one-second samples, as in Ollama.
 */
export class ProgressBar implements ProgressState {
  private current: number;
  private stopped: number | undefined;
  private readonly buckets: { at: number; value: number }[] = [];

  constructor(
    readonly message: string,
    readonly max: number,
    private readonly initial: number,
    private readonly started: number,
  ) {
    this.current = initial;
    if (initial >= max) this.stopped = started;
  }

  set(value: number, now: number): void {
    this.current = Math.min(value, this.max);
    if (this.current >= this.max) this.stopped ??= now;
    const last = this.buckets.at(-1);
    if (!last || now - last.at > 1000) {
      this.buckets.push({ at: now, value: this.current });
      if (this.buckets.length > 10) this.buckets.shift();
    }
  }

  render(termWidth: number): string {
    const percent = this.max > 0 ? (this.current / this.max) * 100 : 0;
    const pre = `${this.message.trim()} ${String(Math.round(percent)).padStart(3)}%`;
    const rate = this.rate();
    const running = this.stopped === undefined;
    let suf = running ? `${padLeft(humanBytes(this.current), 6)}/${padLeft(humanBytes(this.max), 6)}` : `${padLeft(humanBytes(this.max), 6)}${" ".repeat(7)}`;
    if (running && rate > 0) {
      const remaining = Math.trunc((this.max - this.current) / rate);
      suf += `  ${padLeft(humanBytes(Math.trunc(rate)), 6)}/s  ${padLeft(remainingText(remaining), 6)}`;
    } else {
      suf += " ".repeat(18);
    }
    // 5: the bar's two edges and a space on each side
    const room = termWidth - pre.length - suf.length - 5;
    const filled = Math.max(0, Math.trunc((room * percent) / 100));
    return `${pre} ▕${"█".repeat(filled)}${" ".repeat(Math.max(0, room - filled))}▏ ${suf}`;
  }

  /** bytes per second */
  private rate(): number {
    let bytes = 0;
    let seconds = 0;
    if (this.stopped !== undefined) {
      bytes = this.current - this.initial;
      seconds = Math.round((this.stopped - this.started) / 1000);
    } else if (this.buckets.length === 1) {
      bytes = this.buckets[0]!.value - this.initial;
      seconds = Math.round((this.buckets[0]!.at - this.started) / 1000);
    } else if (this.buckets.length > 1) {
      const first = this.buckets[0]!;
      const last = this.buckets.at(-1)!;
      bytes = last.value - first.value;
      seconds = Math.round((last.at - first.at) / 1000);
    }
    return seconds !== 0 ? bytes / seconds : 0;
  }
}

/** At most two units, as Ollama's bar: "59m59s", "1h5m", "99h+". */
function remainingText(seconds: number): string {
  if (seconds >= 100 * 3600) return "99h+";
  if (seconds >= 3600) return `${Math.trunc(seconds / 3600)}h${Math.trunc(seconds / 60) % 60}m`;
  return goDuration(seconds * 1e9);
}

function padLeft(text: string, width: number): string {
  return text.padStart(width);
}
