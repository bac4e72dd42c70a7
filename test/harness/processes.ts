import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serverCommand, type ServerKind } from "@caravan/cli";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const MODELS_DIR = process.env.CARAVAN_TEST_MODELS ?? path.resolve(ROOT, "../shared/models");

/** The harness's names for the server kinds: `single` is `pnpm start` (`caravan serve`). */
const KIND = { single: "serve", gateway: "gateway", worker: "worker" } as const satisfies Record<string, ServerKind>;

export type LogLine = Record<string, unknown> & { msg?: string };

export interface CaravanProcess {
  readonly child: ChildProcess;
  /** JSON log lines so far */
  readonly logs: LogLine[];
  /** raw stderr, for diagnosis */
  stderr(): string;
  /** resolves with the first log line (past or future) that matches */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM, then waits for the exit (SIGKILL after a grace period) */
  stop(): Promise<number | null>;
}

/**
 * Starts a caravan entry point (`pnpm start`, `start:gateway`, `start:worker` run the same files)
 * as a real child process and waits until it says it is ready.
 */
export async function startCaravan(kind: keyof typeof KIND, env: Record<string, string>, readyMsg?: string): Promise<CaravanProcess> {
  const { command, args, cwd } = serverCommand(KIND[kind]);
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, CARAVAN_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogLine[] = [];
  const watchers = new Set<(line: LogLine) => void>();
  let stderr = "";
  let pending = "";
  child.stdout!.setEncoding("utf8").on("data", (data: string) => {
    pending += data;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const text of lines) {
      if (!text.trim()) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      logs.push(line);
      for (const watcher of watchers) watcher(line);
    }
  });
  child.stderr!.setEncoding("utf8").on("data", (data: string) => (stderr += data));

  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 60_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const seen = logs.find(match);
      if (seen) return resolve(seen);
      const timer = setTimeout(() => {
        watchers.delete(watcher);
        reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
      }, timeoutMs);
      const watcher = (line: LogLine) => {
        if (!match(line)) return;
        clearTimeout(timer);
        watchers.delete(watcher);
        resolve(line);
      };
      watchers.add(watcher);
      child.once("exit", (code) => {
        if (!watchers.has(watcher)) return;
        clearTimeout(timer);
        watchers.delete(watcher);
        reject(new Error(`process exited (${code}) before the log line; stderr: ${stderr.slice(-2000)}`));
      });
    });

  const proc: CaravanProcess = {
    child,
    logs,
    stderr: () => stderr,
    waitForLog,
    stop: () =>
      new Promise((resolve) => {
        // A process already gone (exited, or killed by a signal) has no exit event left to fire.
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        const kill = setTimeout(() => child.kill("SIGKILL"), 15_000);
        child.once("exit", (code) => {
          clearTimeout(kill);
          resolve(code);
        });
        child.kill("SIGTERM");
      }),
  };
  const ready = readyMsg ?? (kind === "worker" ? "worker ready" : "gateway listening");
  await waitForLog((line) => line.msg === ready, 90_000);
  return proc;
}
