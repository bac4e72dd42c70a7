import type { CommandProgress, CommandReply, WorkerCommand } from "@caravan/protocol";
import type { CommandOptions } from "./types.ts";

/** The gateway's wait for one command's reply, as both transports keep it. */
export interface CommandWait {
  /** the reply, or the reason there is none (timeout, the caller's signal, a transport error) */
  result(): Promise<CommandReply>;
  /** a progress report arrived: hand it on and restart the idle timeout */
  progress(message: CommandProgress): void;
  reply(reply: CommandReply): void;
  fail(error: Error): void;
  /** stops the timer and the signal listener; call when done waiting */
  dispose(): void;
}

/**
 * Starts waiting: rejects after `timeoutMs` (an idle timeout restarted by each progress report
 * when the caller takes them), or when the caller's signal aborts (`onAbort` then tells the
 * worker). The first outcome wins; later ones are ignored.
 */
export function waitForCommand(workerId: string, command: WorkerCommand, timeoutMs: number, options: CommandOptions, onAbort: () => void): CommandWait {
  let settled = false;
  let resolve!: (outcome: CommandReply | Error) => void;
  const outcome = new Promise<CommandReply | Error>((r) => (resolve = r));
  const settle = (value: CommandReply | Error) => {
    if (settled) return;
    settled = true;
    resolve(value);
  };

  const idle = options.onProgress !== undefined;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const what = idle ? `sent nothing about ${command.type} for ${timeoutMs} ms` : `did not answer ${command.type} within ${timeoutMs} ms`;
      settle(new Error(`worker ${workerId} ${what}`));
    }, timeoutMs);
  };
  arm();

  const signal = options.signal;
  const aborted = () => {
    if (settled) return;
    settle(signal?.reason instanceof Error ? signal.reason : new Error(`${command.type} cancelled`));
    onAbort();
  };
  signal?.addEventListener("abort", aborted, { once: true });
  if (signal?.aborted) aborted();

  return {
    result: async () => {
      const value = await outcome;
      if (value instanceof Error) throw value;
      return value;
    },
    progress: (message) => {
      if (settled || !options.onProgress) return;
      arm();
      options.onProgress(message);
    },
    reply: settle,
    fail: settle,
    dispose: () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", aborted);
    },
  };
}
