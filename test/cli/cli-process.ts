import { spawn } from "node:child_process";
import pty from "@lydell/node-pty";
import { CLI_BIN as BIN } from "@caravan/cli";
import { ROOT } from "../harness/processes.ts";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `caravan ARGS…` with pipes (not a terminal): what a script sees. `input` is written to its stdin. */
export function runCli(args: string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`caravan ${args.join(" ")} did not finish in time; stdout: ${stdout.slice(-500)} stderr: ${stderr.slice(-500)}`));
    }, options.timeoutMs ?? 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** The terminal's text without colours, cursor moves and carriage returns. */
export function plain(text: string): string {
  return text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, "").replace(/\u001b[()][A-Z0-9]/g, "").replace(/\r/g, "");
}

/**
 * `caravan ARGS…` in a real pseudo-terminal (@lydell/node-pty: node-pty with prebuilt binaries),
 * as a person at a terminal runs it: keys are written to it, Ctrl+C is "\x03" and reaches the
 * process as a terminal does (a byte in raw mode, SIGINT in cooked mode).
 */
export class TerminalSession {
  private raw = "";
  readonly exited: Promise<number>;
  private readonly term: pty.IPty;

  constructor(args: string[], env: Record<string, string> = {}) {
    this.term = pty.spawn(process.execPath, [BIN, ...args], { name: "xterm-256color", cols: 120, rows: 40, cwd: ROOT, env: { ...process.env, ...env } as Record<string, string> });
    this.term.onData((data) => (this.raw += data));
    this.exited = new Promise((resolve) => this.term.onExit(({ exitCode }) => resolve(exitCode)));
  }

  /** what it has shown so far, as plain text */
  get text(): string {
    return plain(this.raw);
  }

  /** a position in `text`, to look only at what comes after */
  mark(): number {
    return this.text.length;
  }

  since(mark: number): string {
    return this.text.slice(mark);
  }

  write(keys: string): void {
    this.term.write(keys);
  }

  /** waits until the text after `from` matches; returns that text */
  async waitFor(pattern: RegExp | string, from = 0, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = this.since(from);
      if (typeof pattern === "string" ? seen.includes(pattern) : pattern.test(seen)) return seen;
      if (Date.now() > deadline) throw new Error(`the terminal did not show ${String(pattern)} within ${timeoutMs} ms; it shows:\n${seen.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** types a line and waits for the next prompt */
  async line(text: string, timeoutMs = 30_000): Promise<string> {
    const from = this.mark();
    this.write(`${text}\r`);
    return this.waitFor(/\n>>> $/, from, timeoutMs);
  }

  kill(): void {
    try {
      this.term.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}
