import { Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { CancelMessage, JobMessage, type WorkerState } from "@caravan/protocol";
import { closeAll } from "../close-all.ts";
import { createSequencer } from "../sequencer.ts";
import type { JobHandler, WorkerTransport } from "../types.ts";
import { redisNames, WORKER_STATE_TTL_S, type RedisNames } from "./keys.ts";
import type { RedisTransportOptions } from "./options.ts";

/**
 * The worker's side over Redis: one BullMQ Worker per served model (BullMQ's locks give
 * at-least-once pickup), events published on the job's channel, cancels heard on a broadcast
 * channel and applied to the running job's AbortController.
 */
export class RedisWorkerTransport implements WorkerTransport {
  private readonly names: RedisNames;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly consumers = new Map<string, Worker>();
  private readonly running = new Map<string, AbortController>();
  private readonly workerId: string;
  private closing: Promise<void> | undefined;

  constructor(options: RedisTransportOptions & { workerId: string }) {
    this.names = redisNames(options.prefix ?? "caravan");
    this.workerId = options.workerId;
    // BullMQ's blocking connections require maxRetriesPerRequest: null.
    this.redis = new Redis(options.url, { maxRetriesPerRequest: null });
    this.subscriber = new Redis(options.url, { maxRetriesPerRequest: null });
    this.subscriber.on("message", (_channel: string, raw: string) => this.onCancel(raw));
  }

  async serve(models: readonly string[], handler: JobHandler, concurrency: number): Promise<void> {
    await this.subscriber.subscribe(this.names.cancel);
    for (const model of models) {
      if (this.consumers.has(model)) continue;
      const consumer = new Worker(this.names.queue(model), (job) => this.process(job, handler), {
        connection: this.redis,
        prefix: this.names.bullPrefix,
        concurrency,
      });
      // Errors surface per job as error events; this keeps a Redis hiccup from crashing the process.
      consumer.on("error", () => undefined);
      this.consumers.set(model, consumer);
    }
  }

  async advertise(state: WorkerState): Promise<void> {
    await this.redis.set(this.names.worker(this.workerId), JSON.stringify(state), "EX", WORKER_STATE_TTL_S);
  }

  close(): Promise<void> {
    this.closing ??= closeAll([
      // Worker.close() stops taking jobs and waits for the running ones: shutdown drains.
      ...[...this.consumers.values()].map((consumer) => () => consumer.close()),
      () => this.redis.del(this.names.worker(this.workerId)),
      () => this.subscriber.quit(),
      () => this.redis.quit(),
    ]);
    return this.closing;
  }

  private async process(bullJob: Job, handler: JobHandler): Promise<void> {
    const parsed = JobMessage.safeParse(bullJob.data);
    const jobId = bullJob.id ?? "unknown";
    const stamp = createSequencer(jobId);
    const publish = async (event: ReturnType<typeof stamp>) => {
      await this.redis.publish(this.names.events(jobId), JSON.stringify(event));
    };
    if (!parsed.success) {
      await publish(stamp({ type: "error", code: "internal", message: "unreadable job (wire version mismatch?)" }));
      return;
    }
    const controller = new AbortController();
    this.running.set(jobId, controller);
    try {
      const cancelled = await this.redis.get(this.names.cancelled(jobId));
      if (cancelled !== null) controller.abort(new Error(cancelled));
      await handler(parsed.data, { signal: controller.signal, emit: (body) => publish(stamp(body)) });
    } catch (error) {
      await publish(stamp({ type: "error", code: "internal", message: error instanceof Error ? error.message : String(error) }));
    } finally {
      this.running.delete(jobId);
    }
  }

  private onCancel(raw: string): void {
    let message: CancelMessage;
    try {
      message = CancelMessage.parse(JSON.parse(raw));
    } catch {
      return;
    }
    this.running.get(message.id)?.abort(new Error(message.reason));
  }
}
