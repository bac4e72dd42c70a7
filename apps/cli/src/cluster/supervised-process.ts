import { spawn, type ChildProcess } from "node:child_process";

/** Writes one line of a child's output, already prefixed (the cluster's console). */
export type LineSink = (line: string) => void;

export interface ProcessSpec {
  /** shown before each of its output lines, e.g. "worker-1" */
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * A child process of the local cluster: its stdout and stderr go to `sink` line by line with its
 * name in front, and `stop()` asks it to drain (SIGTERM) and waits, killing it after `graceMs`.
 */
export class SupervisedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stopping = false;

  constructor(
    readonly spec: ProcessSpec,
    sink: LineSink,
    label: string,
    format: (line: string) => string = (line) => line,
  ) {
    // Its own process group: a Ctrl+C in the terminal reaches only the cluster command, which
    // then stops the children in order (workers drain, Redis goes last).
    // stdin is a pipe only to tell the child when this process is gone (CARAVAN_STOP_WITH_PARENT).
    this.child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: { ...spec.env, CARAVAN_STOP_WITH_PARENT: "1" }, stdio: ["pipe", "pipe", "pipe"], detached: true });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let pending = "";
      stream.setEncoding("utf8").on("data", (data: string) => {
        pending += data;
        const lines = pending.split("\n");
        pending = lines.pop()!;
        for (const line of lines) if (line.trim() !== "") sink(`${label} ${format(line)}`);
      });
      stream.on("end", () => pending.trim() !== "" && sink(`${label} ${format(pending)}`));
    }
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => resolve({ code, signal }));
      this.child.once("error", (error) => {
        sink(`${label} cannot start: ${error.message}`);
        resolve({ code: 127, signal: null });
      });
    });
  }

  /** whether stop() was asked (an exit after it is expected) */
  get isStopping(): boolean {
    return this.stopping;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (!this.running) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    this.stopping = true;
    if (this.running) this.child.kill("SIGKILL");
  }
}
