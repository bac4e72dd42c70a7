import { randomUUID } from "node:crypto";
import { WIRE_VERSION, type CommandReply, type WorkerCommand, type ProgressResponse, type PullSource, type WorkerState } from "@caravan/protocol";
import type { GatewayTransport } from "@caravan/transport";
import { AsyncQueue } from "../dispatch/async-queue.ts";
import { PullProgressMerger } from "./pull-progress.ts";

/**
 * How long a worker may stay silent during a pull before the gateway gives up on it. Workers
 * report at least every 5 s while downloading, so this only trips on a lost worker.
 */
export const PULL_IDLE_TIMEOUT_MS = 30_000;

export interface PullFailure {
  workerId: string;
  code: CommandReply["code"] | "unreachable";
  message: string;
}

export interface PullRun {
  /** the merged progress lines; ends when every worker has answered */
  lines: AsyncIterable<ProgressResponse>;
  /** resolves (never rejects) when every worker has answered, with what went wrong where */
  outcome: Promise<{ failures: PullFailure[]; pulledOn: string[] }>;
}

/** Sends one pull to each of `targets` and merges their progress. Aborting `signal` cancels it on every worker. */
export function startPull(transport: GatewayTransport, source: PullSource, targets: readonly WorkerState[], signal: AbortSignal): PullRun {
  const lines = new AsyncQueue<ProgressResponse>();
  const merger = new PullProgressMerger(
    targets.map((worker) => worker.worker_id),
    (line) => lines.push(line),
  );
  const failures: PullFailure[] = [];
  const pulledOn: string[] = [];
  const pullOn = async (workerId: string) => {
    try {
      const command: WorkerCommand = { v: WIRE_VERSION, type: "pull", id: randomUUID(), url: source.url, file: source.fileName };
      const reply = await transport.command(workerId, command, PULL_IDLE_TIMEOUT_MS, { onProgress: (message) => merger.progress(workerId, message.progress), signal });
      if (reply.ok) pulledOn.push(workerId);
      else failures.push({ workerId, code: reply.code, message: reply.message ?? reply.code ?? "pull failed" });
    } catch (error) {
      failures.push({ workerId, code: "unreachable", message: error instanceof Error ? error.message : String(error) });
    } finally {
      merger.done(workerId);
    }
  };
  const outcome = Promise.all(targets.map((worker) => pullOn(worker.worker_id))).then(() => {
    lines.end();
    return { failures, pulledOn };
  });
  return { lines, outcome };
}

/** One message for the client: the reason once if every worker failed alike, else each worker's. */
export function describeFailures(failures: readonly PullFailure[], pulledOn: readonly string[]): string {
  const messages = new Set(failures.map((failure) => failure.message));
  const what = messages.size === 1 ? [...messages][0]! : failures.map((failure) => `${failure.workerId}: ${failure.message}`).join("; ");
  return pulledOn.length > 0 ? `${what} (pulled on ${pulledOn.join(", ")}; failed on ${failures.map((f) => f.workerId).join(", ")})` : what;
}
