import { connect, createServer, type Server, type Socket } from "node:net";
import { Redis, type RedisOptions } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { TransportUnavailableError } from "../unavailable.ts";
import { overRedis, unreachableAsUnavailable } from "./unreachable.ts";

/** A TCP server that takes connections and never answers: a Redis that hangs. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => void sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => expect.unreachable("the call succeeded"),
    (error: unknown) => error,
  );
}

/** ioredis's own failures, produced for real against no Redis (or a silent one): each becomes the transport's. */
describe("overRedis", () => {
  const clients: Redis[] = [];
  const client = (port: number, options: RedisOptions = {}) => {
    const redis = new Redis(port, "127.0.0.1", { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, ...options });
    redis.on("error", () => undefined);
    clients.push(redis);
    return redis;
  };
  afterEach(() => {
    for (const redis of clients.splice(0)) redis.disconnect();
  });

  const expectUnavailable = (error: unknown, ioredisText: RegExp) => {
    expect(error).toBeInstanceOf(TransportUnavailableError);
    expect((error as Error).message).toBe("Redis is unreachable; try again shortly");
    expect(((error as Error).cause as Error).message).toMatch(ioredisText);
  };

  it("a command refused while disconnected (offline queue off)", async () => {
    const error = await failure(overRedis(client(1, { enableOfflineQueue: false }).get("k")));
    expectUnavailable(error, /enableOfflineQueue/);
  });

  it("a refused connection (the socket's error, as ioredis passes it on)", async () => {
    const server = await silentServer();
    await server.close(); // nothing listens on its port now
    const refused = new Promise<Error>((resolve) => connect(server.port, "127.0.0.1").once("error", resolve));
    expectUnavailable(await failure(overRedis(refused.then((error) => Promise.reject(error)))), /ECONNREFUSED/);
  });

  it("a command that timed out", async () => {
    const server = await silentServer();
    try {
      const redis = client(server.port, { enableReadyCheck: false, commandTimeout: 50 });
      await redis.connect();
      expectUnavailable(await failure(overRedis(redis.get("k"))), /Command timed out/);
    } finally {
      await server.close();
    }
  });

  it("a command on a closed connection", async () => {
    const redis = client(1);
    redis.disconnect();
    expectUnavailable(await failure(overRedis(redis.get("k"))), /Connection is closed/);
  });

  it("leaves every other failure as it was", async () => {
    const reply = new Error("WRONGTYPE Operation against a key holding the wrong kind of value");
    expect(await failure(overRedis(Promise.reject(reply)))).toBe(reply);
    const own = new TransportUnavailableError("Redis is unreachable (reconnecting); try again shortly");
    expect(unreachableAsUnavailable(own)).toBe(own);
    expect(unreachableAsUnavailable("not an error")).toBe("not an error");
    await expect(overRedis(Promise.resolve(7))).resolves.toBe(7);
  });
});
