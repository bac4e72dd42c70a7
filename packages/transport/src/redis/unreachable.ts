import { TransportUnavailableError } from "../unavailable.ts";

/**
 * ioredis's failures that mean Redis cannot be reached now: a command refused while disconnected
 * (offline queue off), one dropped by a closing connection, one timed out, a refused connection.
 * ioredis gives them no class or code of their own, so their text is what tells them apart; this
 * is the one place that reads it.
 */
const UNREACHABLE = /enableOfflineQueue|Connection is closed|Command timed out|ECONNREFUSED/;

/** `error` as the transport reports it: Redis being unreachable becomes a TransportUnavailableError (with ioredis's error as its cause). */
export function unreachableAsUnavailable(error: unknown): unknown {
  if (error instanceof Error && !(error instanceof TransportUnavailableError) && UNREACHABLE.test(error.message)) {
    return new TransportUnavailableError("Redis is unreachable; try again shortly", { cause: error });
  }
  return error;
}

/** `call`, whose failure for want of Redis rejects with a TransportUnavailableError. */
export function overRedis<T>(call: Promise<T>): Promise<T> {
  return call.catch((error: unknown) => {
    throw unreachableAsUnavailable(error);
  });
}
