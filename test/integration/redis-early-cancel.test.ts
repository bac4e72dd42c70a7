import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WIRE_VERSION, type CancelMessage, type JobEvent, type JobMessage } from "@caravan/protocol";
import { RedisGatewayTransport, RedisWorkerTransport, redisNames, type JobHandler } from "@caravan/transport";
import { useRedis, watchCommands, type CommandWatch } from "../harness/redis.ts";

/**
 * A cancel can cross a worker taking the job: the gateway's remove() finds the job locked by a
 * worker that has not started it yet. Over Redis the worker then stops the job before it starts,
 * from the broadcast it heard or, for a job accepted while it was not listening, from the marker.
 * Both races are set up here by hand, on a real redis-server: the cancel goes out (or only its
 * marker is left) while no worker serves the job's model, and a worker starts serving it after.
 */
const redis = useRedis();
const prefix = `early-cancel-${randomUUID()}`;
const names = redisNames(prefix);
let gateway: RedisGatewayTransport;
let worker: RedisWorkerTransport;
const seen = new Map<string, { abortedAtStart: boolean; reason: string | undefined }>();

const handler: JobHandler = async (message, ctx) => {
  const entry = { abortedAtStart: ctx.signal.aborted, reason: undefined as string | undefined };
  seen.set(message.id, entry);
  if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
  entry.reason = String((ctx.signal.reason as Error).message);
  await ctx.emit({ type: "error", code: "cancelled", message: "request cancelled" });
};

const job = (model: string, acceptedAt: number): JobMessage => ({ v: WIRE_VERSION, type: "job", kind: "chat", id: randomUUID(), model, messages: [{ role: "user", content: "hi" }], options: {}, accepted_at: acceptedAt });

function submit(message: JobMessage): Promise<JobEvent> {
  return new Promise((resolve, reject) => {
    gateway.submit(message, (event) => event.type !== "started" && event.type !== "chunk" && resolve(event)).catch(reject);
  });
}

/** What Redis ran, from before any job. */
let watch: CommandWatch;

beforeAll(async () => {
  watch = await watchCommands(redis.url); // before any job traffic, as it must
  gateway = new RedisGatewayTransport({ url: redis.url, prefix });
  worker = new RedisWorkerTransport({ url: redis.url, prefix, workerId: "w1" });
  await worker.onCommand(async () => ({ ok: true })); // subscribes the worker to the cancel channel
  let up = false;
  while (!up) up = await gateway.queueStats().then(() => true, () => new Promise<boolean>((r) => setTimeout(() => r(false), 10)));
});
afterAll(async () => {
  // A worker drains its running jobs as it closes: if a job under test never stopped, the
  // redis-server must still go.
  await Promise.race([Promise.allSettled([gateway?.close(), worker?.close()]), new Promise((resolve) => setTimeout(resolve, 5000))]);
  watch?.close();
});

describe("a job cancelled before its worker starts it, over Redis", () => {
  it("is stopped before it starts by the broadcast the worker heard", async () => {
    // Accepted long after the worker began listening: the worker needs no marker lookup.
    const message = job("heard:latest", Date.now() + 3_600_000);
    const ended = submit(message);
    await expect.poll(() => redis.client.exists(`${names.bullPrefix}:${names.queue("heard:latest")}:${message.id}`), { timeout: 5000, interval: 10 }).toBe(1);
    const cancel: CancelMessage = { v: WIRE_VERSION, type: "cancel", id: message.id, reason: "client disconnected" };
    expect(await redis.client.publish(names.cancel, JSON.stringify(cancel))).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the broadcast reaches the worker
    await worker.serve("heard:latest", handler, 1);
    expect(await ended).toMatchObject({ type: "error", code: "cancelled" });
    expect(seen.get(message.id)).toEqual({ abortedAtStart: true, reason: "client disconnected" });
  });

  it("is stopped by the marker when it was accepted before the worker was listening", async () => {
    const message = job("marked:latest", Date.now() - 3_600_000);
    const ended = submit(message);
    // The broadcast missed this worker (say it was reconnecting); only the marker is left.
    await redis.client.set(names.cancelled(message.id), "client disconnected", "EX", 60);
    await worker.serve("marked:latest", handler, 1);
    expect(await ended).toMatchObject({ type: "error", code: "cancelled" });
    expect(seen.get(message.id)).toEqual({ abortedAtStart: false, reason: "client disconnected" }); // within the lookup's round trip
  });

  it("runs a job nobody cancelled, with no marker lookup when the worker has been listening", async () => {
    const message = job("plain:latest", Date.now() + 3_600_000);
    const ended = submit(message);
    await worker.serve("plain:latest", handler, 1);
    await expect.poll(() => seen.has(message.id), { timeout: 5000, interval: 10 }).toBe(true);
    // A lookup would have been sent before the job's handler ran.
    await watch.caughtUp(redis.client);
    expect(watch.commands.filter(([name]) => name === "get").map(([, key]) => key)).not.toContain(names.cancelled(message.id));
    expect(seen.get(message.id)).toEqual({ abortedAtStart: false, reason: undefined }); // still running
    const cancel: CancelMessage = { v: WIRE_VERSION, type: "cancel", id: message.id, reason: "done with test" };
    await redis.client.publish(names.cancel, JSON.stringify(cancel));
    expect(await ended).toMatchObject({ type: "error", code: "cancelled" });
    expect(seen.get(message.id)?.reason).toBe("done with test");
  });
});

