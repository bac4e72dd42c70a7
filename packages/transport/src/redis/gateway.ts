import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { JobEvent, WorkerState, type JobMessage, type CancelMessage, WIRE_VERSION } from "@caravan/protocol";
import { closeAll } from "../close-all.ts";
import type { GatewayTransport, Submission } from "../types.ts";
import { CANCELLED_MARKER_TTL_S, redisNames, type RedisNames } from "./keys.ts";
import type { RedisTransportOptions } from "./options.ts";

const WORKERS_CACHE_MS = 1000;

/**
 * The gateway's side over Redis: jobs go onto a BullMQ queue per model; each job's events come
 * back on its own pub/sub channel, subscribed before the job is enqueued.
 */
export class RedisGatewayTransport implements GatewayTransport {
  private readonly names: RedisNames;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly queues = new Map<string, Queue>();
  private readonly listeners = new Map<string, (event: JobEvent) => void>();
  private workersCache: { at: number; states: Promise<WorkerState[]> } | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: RedisTransportOptions) {
    this.names = redisNames(options.prefix ?? "caravan");
    this.redis = new Redis(options.url, { maxRetriesPerRequest: null });
    this.subscriber = new Redis(options.url, { maxRetriesPerRequest: null });
    this.subscriber.on("message", (channel: string, raw: string) => this.dispatch(channel, raw));
  }

  async submit(job: JobMessage, onEvent: (event: JobEvent) => void): Promise<Submission> {
    const channel = this.names.events(job.id);
    this.listeners.set(channel, onEvent);
    await this.subscriber.subscribe(channel);
    const release = async () => {
      if (this.listeners.delete(channel)) await this.subscriber.unsubscribe(channel).catch(() => undefined);
    };
    try {
      await this.queue(job.model).add("chat", job, { jobId: job.id, removeOnComplete: true, removeOnFail: true, attempts: 1 });
    } catch (error) {
      await release();
      throw error;
    }
    return {
      cancel: (reason) => this.cancel(job, reason),
      release,
    };
  }

  async workers(): Promise<WorkerState[]> {
    const now = Date.now();
    if (!this.workersCache || now - this.workersCache.at > WORKERS_CACHE_MS) {
      const states = this.readWorkers();
      this.workersCache = { at: now, states };
      states.catch(() => (this.workersCache = undefined));
    }
    return this.workersCache.states;
  }

  close(): Promise<void> {
    this.closing ??= closeAll([
      ...[...this.queues.values()].map((queue) => () => queue.close()),
      () => this.subscriber.quit(),
      () => this.redis.quit(),
    ]);
    return this.closing;
  }

  private async cancel(job: JobMessage, reason: string): Promise<void> {
    const message: CancelMessage = { v: WIRE_VERSION, type: "cancel", id: job.id, reason };
    // The marker covers a worker that takes the job after the broadcast; remove() covers a job
    // still waiting (it answers 0 when a worker holds the job's lock, and then the broadcast acts).
    await this.redis.set(this.names.cancelled(job.id), reason, "EX", CANCELLED_MARKER_TTL_S);
    await this.redis.publish(this.names.cancel, JSON.stringify(message));
    await this.queue(job.model).remove(job.id).catch(() => 0);
  }

  private async readWorkers(): Promise<WorkerState[]> {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await this.redis.scan(cursor, "MATCH", this.names.workerPattern, "COUNT", 200);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    if (keys.length === 0) return [];
    const values = await this.redis.mget(keys);
    return values.flatMap((raw) => {
      if (!raw) return [];
      const parsed = WorkerState.safeParse(JSON.parse(raw));
      return parsed.success ? [parsed.data] : [];
    });
  }

  private dispatch(channel: string, raw: string): void {
    const listener = this.listeners.get(channel);
    if (!listener) return;
    let parsed: ReturnType<typeof JobEvent.safeParse>;
    try {
      parsed = JobEvent.safeParse(JSON.parse(raw));
    } catch {
      parsed = JobEvent.safeParse(undefined);
    }
    if (parsed.success) {
      listener(parsed.data);
    } else {
      // A message we cannot read (e.g. another wire version) ends the request loudly.
      const id = channel.slice(channel.lastIndexOf(":") + 1);
      listener({ v: WIRE_VERSION, type: "error", id, seq: -1, code: "internal", message: "unreadable message from worker (wire version mismatch?)" });
    }
  }

  private queue(model: string): Queue {
    let queue = this.queues.get(model);
    if (!queue) {
      queue = new Queue(this.names.queue(model), { connection: this.redis, prefix: this.names.bullPrefix });
      this.queues.set(model, queue);
    }
    return queue;
  }
}
