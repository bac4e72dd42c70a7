import { describe, expect, it } from "vitest";
import { ProgressBar } from "./bar.ts";
import { PlainPullView, TerminalPullView } from "./pull-view.ts";
import { Spinner } from "./spinner.ts";
import { TerminalProgress } from "./terminal-progress.ts";

const strip = (text: string) => text.replace(/\u001b\[[?0-9;]*[A-Za-z]/g, "");

describe("ProgressBar (Ollama's bar)", () => {
  it("draws percent, bar, sizes, rate and time left to the terminal's width", () => {
    const bar = new ProgressBar("pulling 6a0746a1ec1a:", 4_000_000_000, 0, 0);
    bar.set(1_000_000_000, 10_000);
    const line = bar.render(100);
    expect(line).toBe(`pulling 6a0746a1ec1a:  25% ▕${"█".repeat(9)}${" ".repeat(29)}▏   1 GB/  4 GB  100 MB/s     30s`);
    // one column short of the width, as Ollama's (so the terminal never wraps it)
    expect([...line].length).toBe(99);
  });

  it("measures the rate between one-second samples", () => {
    const bar = new ProgressBar("pulling abc:", 2_500_000, 0, 0);
    bar.set(1_200_000, 2_000);
    bar.set(1_300_000, 3_500);
    expect(bar.render(80)).toBe(`pulling abc:  52% ▕${"█".repeat(14)}${" ".repeat(13)}▏ 1.3 MB/2.5 MB   50 KB/s     24s`);
  });

  it("shows only the total once complete", () => {
    const bar = new ProgressBar("pulling abc:", 2_000_000, 0, 0);
    bar.set(2_000_000, 2_000);
    expect(bar.render(60)).toBe(`pulling abc: 100% ▕${"█".repeat(7)}▏   2 MB${" ".repeat(25)}`);
  });
});

describe("Spinner", () => {
  it("turns every 100 ms and keeps only its message once stopped", () => {
    const spinner = new Spinner("pulling manifest", 0);
    expect(spinner.render(80, 0)).toBe("pulling manifest ⠋ ");
    expect(spinner.render(80, 250)).toBe("pulling manifest ⠹ ");
    spinner.stop(300);
    expect(spinner.render(80, 400)).toBe("pulling manifest ");
    expect(new Spinner("", 0).render(80, 0)).toBe("⠋ ");
  });
});

describe("pull views", () => {
  const lines = [
    { status: "pulling manifest" },
    { status: "pulling ab12cd34ef56", digest: "sha256:ab12cd34ef5678", total: 4_000_000 },
    { status: "pulling ab12cd34ef56", digest: "sha256:ab12cd34ef5678", total: 4_000_000, completed: 1_000_000 },
    { status: "pulling ab12cd34ef56", digest: "sha256:ab12cd34ef5678", total: 4_000_000, completed: 1_100_000 },
    { status: "pulling ab12cd34ef56", digest: "sha256:ab12cd34ef5678", total: 4_000_000, completed: 4_000_000 },
    { status: "verifying sha256 digest" },
    { status: "writing manifest" },
    { status: "success" },
  ];

  it("plain: each status once, each layer at every tenth", () => {
    const out: string[] = [];
    const view = new PlainPullView((line) => out.push(line));
    lines.forEach((l) => view.update(l));
    expect(out).toEqual([
      "pulling manifest",
      "pulling ab12cd34ef56: 25% (1 MB/4 MB)",
      "pulling ab12cd34ef56: 100% (4 MB/4 MB)",
      "verifying sha256 digest",
      "writing manifest",
      "success",
    ]);
  });

  it("terminal: spinners for statuses and one bar per layer, left on screen at the end", () => {
    let screen = "";
    const stream = { write: (t: string) => (screen += t), columns: 80, rows: 24 };
    const progress = new TerminalProgress(stream, () => 0, 60_000);
    const view = new TerminalPullView(progress, () => 0);
    lines.forEach((l) => view.update(l));
    view.finish();
    const final = strip(screen.slice(screen.lastIndexOf("\u001b[?2026h")));
    expect(final.split("\n")).toEqual([
      "pulling manifest ",
      expect.stringMatching(/^pulling ab12cd34ef56: 100% ▕█+▏   4 MB {25}$/),
      "verifying sha256 digest ",
      "writing manifest ",
      "success ",
      "",
    ]);
  });
});
