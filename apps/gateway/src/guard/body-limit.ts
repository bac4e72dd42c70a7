import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HttpError } from "../errors.ts";

/** 413 as soon as a body is known to be too large: from Content-Length at once, else while it streams in. */
export function maxBody(maxBytes: number): MiddlewareHandler {
  const tooLarge = (): never => {
    throw new HttpError(413, "too_large", `request body larger than ${maxBytes} bytes (CARAVAN_MAX_BODY_BYTES)`);
  };
  const streamed = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const length = c.req.header("content-length");
    // With a Content-Length (which every Ollama and OpenAI client sends) the size is known before
    // a byte is read, and the body is left alone. Hono's bodyLimit reads `req.raw.body`, which
    // makes @hono/node-server build a full web Request and stream the body through it instead of
    // reading it straight from the socket: a visible share of the gateway's CPU per request.
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (Number(length) > maxBytes) tooLarge();
      return next();
    }
    return streamed(c, next);
  };
}
