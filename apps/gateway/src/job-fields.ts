import { randomUUID } from "node:crypto";
import { canonicalModelName, KeepAliveError, parseKeepAlive, WIRE_VERSION, type ModelOptions } from "@caravan/protocol";
import { badRequest } from "./errors.ts";

/** A request's keep_alive in ms (-1 forever), or undefined for the server's default; bad values are a 400. */
export function keepAliveMs(value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseKeepAlive(value);
  } catch (error) {
    if (error instanceof KeepAliveError) throw badRequest(error.message);
    throw error;
  }
}

/** What every job carries whatever its kind: a fresh id, the canonical model, options, keep_alive, arrival. */
export function jobEnvelope(request: { model: string; options?: ModelOptions; keep_alive?: number | string }) {
  return {
    v: WIRE_VERSION as typeof WIRE_VERSION,
    type: "job" as const,
    id: randomUUID(),
    model: canonicalModelName(request.model),
    options: request.options ?? {},
    keep_alive_ms: keepAliveMs(request.keep_alive),
    accepted_at: Date.now(),
  };
}
