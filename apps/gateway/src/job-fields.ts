import { KeepAliveError, parseKeepAlive } from "@caravan/protocol";
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
