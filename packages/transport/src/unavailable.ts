/**
 * The transport cannot reach its broker (Redis is down or restarting). Thrown at once instead of
 * waiting for a connection that may not come back soon: the gateway answers 503 and the client
 * retries, rather than hang.
 */
export class TransportUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TransportUnavailableError";
  }
}
