import type { ErrorCode } from "@caravan/protocol";

/**
 * The gateway's error family: each carries an HTTP status and a stable code, and becomes
 * `{"error": message}` in one place (the app's onError).
 */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 404 | 405 | 409 | 413 | 499 | 500 | 503 | 504,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export const badRequest = (message: string) => new HttpError(400, "bad_request", message);
export const modelNotFound = (name: string) => new HttpError(404, "model_not_found", `model '${name}' not found`);
export const methodNotAllowed = () => new HttpError(405, "method_not_allowed", "method not allowed");
/** Ollama's answer when its queue is full, with a hint for when to come back. */
export const serverBusy = () =>
  new HttpError(503, "server_busy", "server busy, please try again.  maximum pending requests exceeded", { "Retry-After": "1" });

/** The HTTP status for an error a worker reported about a job. */
export function statusForWorkerError(code: ErrorCode): HttpError["status"] {
  switch (code) {
    case "model_not_found":
      return 404;
    case "bad_request":
      return 400;
    case "cancelled":
      return 499;
    case "worker_lost":
    case "queue_timeout":
      return 503;
    default:
      return 500;
  }
}
