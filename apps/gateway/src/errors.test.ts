import { Hono } from "hono";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ErrorCode } from "@caravan/protocol";
import { overRedis, TransportUnavailableError } from "@caravan/transport";
import { errorHandler, HttpError, statusForWorkerError, WORKER_ERROR_STATUS } from "./errors.ts";
import { openAiErrorBody } from "./openai/errors.ts";

const log = pino({ level: "silent" });

/** Every code a worker can report about a job, its HTTP status, and OpenAI's type for it. */
const TABLE: Array<[ErrorCode, number, string]> = [
  ["model_not_found", 404, "invalid_request_error"],
  ["bad_request", 400, "invalid_request_error"],
  ["cancelled", 499, "invalid_request_error"],
  ["engine_error", 500, "api_error"],
  ["worker_lost", 503, "api_error"],
  ["queue_timeout", 503, "api_error"],
  ["unavailable", 503, "api_error"],
  ["internal", 500, "api_error"],
];

describe("a worker's error code on HTTP", () => {
  it("covers every ErrorCode", () => {
    expect(TABLE.map(([code]) => code).sort()).toEqual([...ErrorCode.options].sort());
    expect(Object.keys(WORKER_ERROR_STATUS).sort()).toEqual([...ErrorCode.options].sort());
  });

  it.each(TABLE)("%s is a %i (%s under /v1)", (code, status, type) => {
    expect(statusForWorkerError(code)).toBe(status);
    const body = openAiErrorBody(new HttpError(statusForWorkerError(code), code, "m"));
    expect(body.error).toEqual({ message: "m", type, param: null, code });
  });
});

describe("errorHandler", () => {
  const appThrowing = (error: unknown) => {
    const app = new Hono();
    app.get("/", () => {
      throw error;
    });
    app.onError(errorHandler(log, (e) => ({ error: e.message })));
    return app;
  };
  const answer = async (error: unknown) => {
    const res = await appThrowing(error).request("/");
    return { status: res.status, retryAfter: res.headers.get("Retry-After"), body: await res.json() };
  };

  it("keeps an HttpError's status, message and headers", async () => {
    expect(await answer(new HttpError(429, "rate_limited", "slow down", { "Retry-After": "7" }))).toEqual({ status: 429, retryAfter: "7", body: { error: "slow down" } });
  });

  it("answers Redis being unreachable with a 503 to retry, in the transport's words", async () => {
    const own = new TransportUnavailableError("Redis is unreachable (reconnecting); try again shortly");
    expect(await answer(own)).toEqual({ status: 503, retryAfter: "2", body: { error: "Redis is unreachable (reconnecting); try again shortly" } });
    const fromIoredis = await overRedis(Promise.reject(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).catch((error: unknown) => error);
    expect(await answer(fromIoredis)).toEqual({ status: 503, retryAfter: "2", body: { error: "Redis is unreachable; try again shortly" } });
  });

  it("answers anything else with a 500 that says nothing of its cause", async () => {
    expect(await answer(new Error("secret detail"))).toEqual({ status: 500, retryAfter: null, body: { error: "internal server error" } });
  });
});
