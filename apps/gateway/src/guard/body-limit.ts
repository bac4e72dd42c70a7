import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HttpError } from "../errors.ts";

/** 413 as soon as a body is known to be too large: from Content-Length at once, else while it streams in. */
export function maxBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HttpError(413, "too_large", `request body larger than ${maxBytes} bytes (CARAVAN_MAX_BODY_BYTES)`);
    },
  });
}
