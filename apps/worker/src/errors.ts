import type { CommandReply, ErrorCode } from "@caravan/protocol";

/** What a worker's error is, whoever reports it: each class of the family has one. */
export type WorkerErrorCode = "engine_error" | "cancelled" | "bad_request" | "no_room" | "too_large" | "draining";

/** The worker's error family (the engine's and residency's errors): each class carries its stable code. */
export abstract class WorkerError extends Error {
  abstract readonly code: WorkerErrorCode;
}

export type CommandErrorCode = NonNullable<CommandReply["code"]>;

/**
 * The one mapping from a worker error's code to the wire: in a job's error event, and in a
 * command's reply, whose codes say more about loads. A command has no `cancelled` or
 * `bad_request` of its own for a load: those are the engine's failure there.
 */
export const WIRE_CODES: Readonly<Record<WorkerErrorCode, { job: ErrorCode; command: CommandErrorCode }>> = {
  engine_error: { job: "engine_error", command: "engine_error" },
  cancelled: { job: "cancelled", command: "engine_error" },
  bad_request: { job: "bad_request", command: "engine_error" },
  // busy models leave no room for the load now: a job may try again later
  no_room: { job: "unavailable", command: "no_room" },
  // the options asked for need more than the worker's whole memory: the request's to change
  too_large: { job: "bad_request", command: "too_large" },
  draining: { job: "engine_error", command: "draining" },
};

/** What a job tells its client when it was cancelled, whatever stopped it. */
export const CANCELLED_MESSAGE = "request cancelled";

/**
 * Any thrown value as the wire error a job's `error` event or a command's reply carries. An
 * error outside the family is the engine's failure, with its own message.
 */
export function wireError(error: unknown, on: "job"): { code: ErrorCode; message: string };
export function wireError(error: unknown, on: "command"): { code: CommandErrorCode; message: string };
export function wireError(error: unknown, on: "job" | "command"): { code: ErrorCode | CommandErrorCode; message: string } {
  const code = error instanceof WorkerError ? error.code : "engine_error";
  const message = on === "job" && code === "cancelled" ? CANCELLED_MESSAGE : error instanceof Error ? error.message : String(error);
  return { code: WIRE_CODES[code][on], message };
}
