import { readFile } from "node:fs/promises";

/** The processes `pid` started that still run (Linux's /proc children list). */
export async function childPids(pid: number): Promise<number[]> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  return children.split(" ").filter(Boolean).map(Number);
}

/** Resident memory of a process in KiB, from /proc; 0 once it is gone. */
export async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/**
 * The highest RSS seen of a process and of each process it started (a worker's model runners),
 * sampled every `everyMs` until stop(): what a memory bound in a test is checked against.
 */
export class RssWatch {
  /** pid → highest RSS seen, bytes */
  readonly peaks = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;
  private sampling: Promise<void> = Promise.resolve();

  constructor(
    private readonly rootPid: number,
    everyMs = 50,
  ) {
    this.timer = setInterval(() => (this.sampling = this.sampling.then(() => this.sample())), everyMs);
  }

  /** The largest peak of any one process, bytes. */
  get highest(): number {
    return Math.max(0, ...this.peaks.values());
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sampling;
    await this.sample();
  }

  private async sample(): Promise<void> {
    for (const pid of [this.rootPid, ...(await childPids(this.rootPid))]) {
      const bytes = (await rssKb(pid)) * 1024;
      if (bytes > (this.peaks.get(pid) ?? 0)) this.peaks.set(pid, bytes);
    }
  }
}
