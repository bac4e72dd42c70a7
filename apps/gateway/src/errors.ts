import type { Env, ErrorHandler, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ErrorCode } from "@caravan/protocol";
import { TransportUnavailableError } from "@caravan/transport";
import type { Logger } from "pino";

/**
 * The gateway's error family: each carries an HTTP status and a stable code, and becomes its
 * API's error body in one place (errorHandler: `{"error": message}`, or OpenAI's under /v1).
 */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 429 | 499 | 500 | 503 | 504,
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
/**
 * No live worker at all (the gateway started first, or every worker is gone): nothing can be said
 * about a model yet, so this is not a 404. Workers register at start and every 2 s.
 */
export const noWorkerAvailable = () => new HttpError(503, "unavailable", "no worker available; try again shortly", { "Retry-After": "2" });
/** Ollama's answer when its queue is full, with a hint for when to come back. */
export const serverBusy = () =>
  new HttpError(503, "server_busy", "server busy, please try again.  maximum pending requests exceeded", { "Retry-After": "1" });

/** The HTTP status of each code a worker reports about a job: the one mapping from the wire to HTTP. */
export const WORKER_ERROR_STATUS: Readonly<Record<ErrorCode, HttpError["status"]>> = {
  model_not_found: 404,
  bad_request: 400,
  cancelled: 499,
  engine_error: 500,
  worker_lost: 503,
  queue_timeout: 503,
  unavailable: 503,
  internal: 500,
};

/** The HTTP status for an error a worker reported about a job. */
export const statusForWorkerError = (code: ErrorCode): HttpError["status"] => WORKER_ERROR_STATUS[code];

/**
 * An app's onError, for one API's error body. An HttpError keeps its status and headers; Redis
 * being down or restarting (the transport's TransportUnavailableError, which the shared stores'
 * calls throw too) is a quick 503 the client can retry, never a hang or a 500; anything
 * else is a 500 that says nothing of its cause (the log does).
 */
export function errorHandler(log: Logger, body: (error: HttpError) => object): ErrorHandler {
  return (thrown, c) => {
    const error = thrown instanceof TransportUnavailableError ? new HttpError(503, "unavailable", thrown.message, { "Retry-After": "2" }) : thrown;
    if (error instanceof HttpError) {
      if (error.status >= 500) log.error({ err: error, path: c.req.path }, error.message);
      // 499 (client closed) is not in Hono's list of codes, but any 4xx/5xx is valid on the wire.
      return c.json(body(error), error.status as ContentfulStatusCode, error.headers);
    }
    log.error({ err: error, path: c.req.path }, "unhandled error");
    return c.json(body(new HttpError(500, "internal", "internal server error")), 500);
  };
}

/** A known path with the wrong method is a 405, not a 404: one for each path `app` has routes for so far. */
export function refuseOtherMethods<E extends Env>(app: Hono<E>): void {
  const paths = new Set(app.routes.filter((route) => route.method !== "ALL").map((route) => route.path));
  for (const path of paths) {
    app.all(path, () => {
      throw methodNotAllowed();
    });
  }
}
