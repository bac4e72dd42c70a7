import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { startRedisServer, type LocalRedis } from "@caravan/cli";

export type TestRedis = LocalRedis;

/**
 * A private redis-server on a free port, with nothing persisted: tests never share the
 * machine's Redis, and each run starts empty. (The same one `pnpm cluster` starts.)
 */
export function startRedis(): Promise<TestRedis> {
  return startRedisServer();
}

/**
 * A private redis-server and a plain client to it, for one test file: both started before its
 * tests and stopped after them. Call it before the file's own hooks: vitest runs afterAll hooks
 * in reverse order, so the file's own (closing its transports) run while Redis is still up.
 */
export function useRedis(): { readonly url: string; readonly client: Redis } {
  let server: TestRedis | undefined;
  let client: Redis | undefined;
  beforeAll(async () => {
    server = await startRedis();
    client = new Redis(server.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });
  return {
    get url() {
      return server!.url;
    },
    get client() {
      return client!;
    },
  };
}

/** What Redis runs, as its MONITOR reports it. */
export interface CommandWatch {
  /** every command since the watch began, in the order Redis ran them: [name in lower case, ...args] */
  readonly commands: string[][];
  /** Resolves once the watch has shown every command Redis ran before this call (an ECHO sent through `client` has come back through the watch). */
  caughtUp(client: Redis): Promise<void>;
  close(): void;
}

/**
 * Watches the commands Redis runs (MONITOR). Start it while nothing else talks to Redis: started
 * amid traffic, ioredis can read the first lines as replies to its MONITOR command (a "command
 * queue state error").
 */
export async function watchCommands(url: string): Promise<CommandWatch> {
  const connection = new Redis(url);
  const monitor = await connection.monitor();
  // Lines still buffered when it disconnects read as replies to no command, which ioredis reports.
  monitor.on("error", () => undefined);
  const commands: string[][] = [];
  const echoes = new Map<string, () => void>();
  monitor.on("monitor", (_time: string, args: string[]) => {
    const command = [String(args[0]).toLowerCase(), ...args.slice(1).map(String)];
    commands.push(command);
    if (command[0] === "echo") echoes.get(command[1]!)?.();
  });
  return {
    commands,
    async caughtUp(client) {
      const marker = `caught-up-${randomUUID()}`;
      const seen = new Promise<void>((resolve) => echoes.set(marker, resolve));
      await client.echo(marker);
      await seen;
      echoes.delete(marker);
    },
    close() {
      monitor.disconnect();
      connection.disconnect();
    },
  };
}
