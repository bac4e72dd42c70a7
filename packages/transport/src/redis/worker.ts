import { Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import { CancelMessage, JobMessage, WIRE_VERSION, WorkerCommand, type CommandProgress, type CommandReply, type WorkerState } from "@caravan/protocol";
import { closeAll } from "@caravan/runtime";
import { jobUrgency } from "../event-window.ts";
import { EventOutbox } from "./event-outbox.ts";
import { HeardCancels } from "./heard-cancels.ts";
import { createSequencer } from "../sequencer.ts";
import type { CommandContext, CommandHandler, JobHandler, WorkerTransport } from "../types.ts";
import { redisNames, WORKER_STATE_TTL_MS, type RedisNames } from "./keys.ts";
import type { RedisTransportOptions } from "./options.ts";

/** How long a job event may wait on a broken connection before it counts as unheard. */
const EVENT_PUBLISH_TIMEOUT_MS = 2000;

/**
 * The worker's side over Redis: one BullMQ Worker per model it has loaded (so jobs wait in Redis
 * for a warm copy rather than on a worker that would have to load), events published on the
 * channel the job names (its gateway's, shared by that gateway's jobs, so that an EventOutbox can
 * send several jobs' events in one message), cancels heard on a broadcast channel, commands on the
 * worker's own channel.
 *
 * `maxStalledCount: 0`: BullMQ never re-runs a job whose worker died mid-way. The gateway
 * decides instead, because only it knows whether the client has already seen tokens (then the
 * stream ends with an error) or not (then it submits the job again).
 */
export class RedisWorkerTransport implements WorkerTransport {
  private readonly names: RedisNames;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly consumers = new Map<string, Worker>();
  private readonly retiring = new Set<Promise<unknown>>();
  private readonly running = new Map<string, AbortController>();
  private readonly workerId: string;
  private readonly outbox = new EventOutbox((channel, message) => this.publishEvent(channel, message));
  private readonly cancels = new HeardCancels();
  private commandHandler: CommandHandler | undefined;
  private subscribed: Promise<unknown> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: RedisTransportOptions & { workerId: string }) {
    this.names = redisNames(options.prefix ?? "caravan");
    this.workerId = options.workerId;
    // BullMQ's blocking connections require maxRetriesPerRequest: null.
    this.redis = new Redis(options.url, { maxRetriesPerRequest: null });
    this.subscriber = new Redis(options.url, { maxRetriesPerRequest: null });
    this.subscriber.on("message", (channel: string, raw: string) => {
      if (channel === this.names.cancel) this.onCancel(raw);
      else void this.onCommandMessage(raw);
    });
    // Without Redis a running job's events reach nobody (and the gateway has already ended the
    // request with an error): stop generating. ioredis reconnects by itself and BullMQ resumes
    // taking jobs; the heartbeat then re-registers this worker.
    this.redis.on("close", () => {
      if (this.closing) return;
      for (const controller of this.running.values()) controller.abort(new Error("lost the connection to Redis"));
    });
    // ioredis subscribes again by itself after a reconnection; what was broadcast meanwhile is lost.
    this.subscriber.on("close", () => this.cancels.deaf());
    this.subscriber.on("ready", () => this.subscribed && this.cancels.listening());
    for (const connection of [this.redis, this.subscriber]) connection.on("error", () => undefined); // reported through the failing calls
  }

  async serve(model: string, handler: JobHandler, concurrency: number): Promise<void> {
    await this.subscribe();
    if (this.consumers.has(model) || this.closing) return;
    const consumer = new Worker(this.names.queue(model), (job) => this.process(job, handler), {
      connection: this.redis,
      prefix: this.names.bullPrefix,
      concurrency,
      maxStalledCount: 0,
    });
    // Errors surface per job as error events; this keeps a Redis hiccup from crashing the process.
    consumer.on("error", () => undefined);
    this.consumers.set(model, consumer);
  }

  async stopServing(model: string): Promise<void> {
    const consumer = this.consumers.get(model);
    if (!consumer) return;
    this.consumers.delete(model);
    // close() waits for a job the consumer may have just taken; that must not hold up the
    // caller (the worker's state sync and heartbeat), so it finishes in the background.
    const closing = consumer.close().catch(() => undefined);
    this.retiring.add(closing);
    void closing.finally(() => this.retiring.delete(closing));
  }

  async onCommand(handler: CommandHandler): Promise<void> {
    this.commandHandler = handler;
    await this.subscribe();
  }

  async advertise(state: WorkerState): Promise<void> {
    if (this.closing && !state.draining) return;
    await this.redis.set(this.names.worker(this.workerId), JSON.stringify(state), "PX", WORKER_STATE_TTL_MS);
  }

  close(): Promise<void> {
    this.closing ??= closeAll([
      // Worker.close() stops taking jobs and waits for the running ones: shutdown drains.
      ...[...this.consumers.values()].map((consumer) => () => consumer.close()),
      () => this.consumers.clear(),
      () => Promise.all(this.retiring),
      () => this.redis.del(this.names.worker(this.workerId)),
      () => this.subscriber.quit(),
      () => this.redis.quit(),
    ]);
    return this.closing;
  }

  private subscribe(): Promise<unknown> {
    this.subscribed ??= this.subscriber.subscribe(this.names.cancel, this.names.commands(this.workerId)).then(() => this.cancels.listening());
    return this.subscribed;
  }

  private async process(bullJob: Job, handler: JobHandler): Promise<void> {
    const parsed = JobMessage.safeParse(bullJob.data);
    const jobId = bullJob.id ?? "unknown";
    const stamp = createSequencer(jobId);
    const controller = new AbortController();
    const channel = replyChannel(bullJob.data);
    // Every gateway names its reply channel; without one, nobody could hear the job's answer.
    if (channel === undefined) return;
    const urgent = jobUrgency();
    const publish = async (event: ReturnType<typeof stamp>) => {
      const listeners = await this.outbox.send(channel, JSON.stringify(event), urgent(event));
      // The gateway listens on its channel from before it enqueues until it stops, so nobody
      // listening means that gateway is gone (crashed, killed): stop generating for no one.
      if (listeners === 0 && event.type !== "done" && event.type !== "error" && !controller.signal.aborted) {
        controller.abort(new Error("nobody is listening: the gateway that submitted the job is gone"));
      }
    };
    if (!parsed.success) {
      await publish(stamp({ type: "error", code: "internal", message: "unreadable job (wire version mismatch?)" }));
      return;
    }
    this.running.set(jobId, controller);
    try {
      // A cancel broadcast before this worker took the job was heard and remembered. Only a job
      // accepted while this worker was not listening (it had just (re)connected) is checked
      // against the marker the cancel left, alongside the start rather than before it (one round
      // trip less before the first token): a job cancelled that early aborts within the round
      // trip, and the gateway has already ended its request.
      const heard = this.cancels.take(jobId);
      if (heard !== undefined) controller.abort(new Error(heard));
      else if (!this.cancels.heardAllSince(parsed.data.accepted_at)) {
        this.redis.get(this.names.cancelled(jobId)).then(
          (cancelled) => cancelled !== null && controller.abort(new Error(cancelled)),
          () => undefined, // Redis away: the connection's close aborts running jobs anyway
        );
      }
      await handler(parsed.data, { signal: controller.signal, emit: (body) => publish(stamp(body)) });
    } catch (error) {
      await publish(stamp({ type: "error", code: "internal", message: error instanceof Error ? error.message : String(error) }));
    } finally {
      this.running.delete(jobId);
    }
  }

  /**
   * Publishes job events; 0 (nobody heard them) when Redis is away, at once or within
   * EVENT_PUBLISH_TIMEOUT_MS: the gateway has already ended that request, and a publish queued for
   * a reconnection must not hold the job (and its slot) until Redis returns.
   */
  private async publishEvent(channel: string, message: string): Promise<number> {
    if (this.redis.status !== "ready") return 0;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((resolve) => (timer = setTimeout(() => resolve(0), EVENT_PUBLISH_TIMEOUT_MS)));
    try {
      return await Promise.race([this.redis.publish(channel, message), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private onCancel(raw: string): void {
    let message: CancelMessage;
    try {
      message = CancelMessage.parse(JSON.parse(raw));
    } catch {
      return;
    }
    const running = this.running.get(message.id);
    if (running) running.abort(new Error(message.reason));
    else this.cancels.remember(message.id, message.reason); // this worker may be taking it right now
  }

  private async onCommandMessage(raw: string): Promise<void> {
    let command: WorkerCommand;
    try {
      command = WorkerCommand.parse(JSON.parse(raw));
    } catch {
      return;
    }
    const channel = this.names.reply(command.id);
    // Command ids share the cancel map with job ids (both are random UUIDs).
    const controller = new AbortController();
    this.running.set(command.id, controller);
    let replied = false;
    const context: CommandContext = {
      signal: controller.signal,
      progress: (progress) => {
        if (replied) return;
        const message: CommandProgress = { v: WIRE_VERSION, type: "progress", id: command.id, worker_id: this.workerId, progress };
        this.redis.publish(channel, JSON.stringify(message)).catch(() => undefined);
      },
    };
    let body: Omit<CommandReply, "v" | "type" | "id" | "worker_id">;
    try {
      body = this.commandHandler ? await this.commandHandler(command, context) : { ok: false, code: "engine_error", message: "worker not ready" };
    } catch (error) {
      body = { ok: false, code: "engine_error", message: error instanceof Error ? error.message : String(error) };
    } finally {
      replied = true;
      this.running.delete(command.id);
    }
    const reply: CommandReply = { ...body, v: WIRE_VERSION, type: "reply", id: command.id, worker_id: this.workerId };
    await this.redis.publish(channel, JSON.stringify(reply)).catch(() => undefined);
  }
}

/** The channel a job's events go to (`reply_to`), read even from a job that fails validation. */
function replyChannel(data: unknown): string | undefined {
  const replyTo = (data as { reply_to?: unknown } | null)?.reply_to;
  return typeof replyTo === "string" && replyTo !== "" ? replyTo : undefined;
}
