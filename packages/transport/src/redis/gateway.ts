import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { CommandProgress, CommandReply, JobEvent, WIRE_VERSION, WorkerState, type CancelMessage, type JobMessage, type WorkerCommand } from "@caravan/protocol";
import { closeAll } from "@caravan/runtime";
import { waitForCommand } from "../command-wait.ts";
import type { Admission, CommandOptions, GatewayTransport, QueueLimits, QueueStats, Submission, SubmitOptions } from "../types.ts";
import { TransportUnavailableError } from "../unavailable.ts";
import { CANCELLED_MARKER_TTL_S, redisNames, type RedisNames } from "./keys.ts";
import { RedisLedger } from "./ledger.ts";
import type { RedisTransportOptions } from "./options.ts";
import { overRedis } from "./unreachable.ts";

const WORKERS_CACHE_MS = 1000;
/** A command that gets no answer in this long fails (a connection can die without a close). */
const COMMAND_TIMEOUT_MS = 5000;

/**
 * The gateway's side over Redis: jobs go onto a BullMQ queue per model. The events of all this
 * gateway's jobs come back on one pub/sub channel of its own (a message holds one event or an
 * array of them, each naming its job), subscribed once before the first job is sent; each
 * command's reply comes back on its own channel, subscribed before sending. Redis being
 * unreachable is a TransportUnavailableError: at once (ready()), or from the call it failed.
 */
export class RedisGatewayTransport implements GatewayTransport {
  private readonly names: RedisNames;
  private readonly redis: Redis;
  /** BullMQ's queues: kept off `redis`, whose auto-pipelining BullMQ is not known to support */
  private readonly queueConnection: Redis;
  private readonly subscriber: Redis;
  /** every connection above: each must be up to serve, and each is closed */
  private readonly connections: Redis[];
  private readonly ledger: RedisLedger;
  private readonly queues = new Map<string, Queue>();
  private readonly listeners = new Map<string, Listener>();
  /** this gateway's reply channel, and the jobs listening on it by job id */
  private readonly replies: string;
  private readonly jobs = new Map<string, Listener>();
  private repliesSubscribed: Promise<unknown> | undefined;
  private workersCache: { at: number; states: Promise<WorkerState[]> } | undefined;
  /** the read of the workers' states under way (settles when it does, never rejects) */
  private workersReading: Promise<void> | undefined;
  /** the read that starts when that one ends, shared by every refresh asked for meanwhile */
  private workersQueued: Promise<WorkerState[]> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: RedisTransportOptions) {
    this.names = redisNames(options.prefix ?? "caravan");
    const connect = (autoPipelining = false) => new Redis(options.url, { maxRetriesPerRequest: null, commandTimeout: COMMAND_TIMEOUT_MS, enableAutoPipelining: autoPipelining });
    // Auto-pipelined: the commands issued in one turn of the event loop (a request's admission
    // and queue statistics, other requests' admissions and leaves) leave in one write. On this
    // project's VMs a socket write costs ~60 µs of CPU whatever its size.
    this.redis = connect(true);
    this.queueConnection = connect();
    this.subscriber = connect();
    this.connections = [this.redis, this.queueConnection, this.subscriber];
    this.replies = this.names.replies(randomUUID());
    this.ledger = new RedisLedger(this.redis, this.names);
    this.subscriber.on("message", (channel: string, raw: string) => this.dispatch(channel, raw));
    // ioredis reconnects by itself (and subscribes again); meanwhile requests fail fast (see
    // ready()), and whatever was listening may have missed messages: it is told so.
    this.subscriber.on("close", () => this.connectionLost());
    for (const connection of this.connections) connection.on("error", () => undefined); // reported through the failing calls
  }

  /** Throws TransportUnavailableError unless every connection is up: no request waits on a dead Redis. */
  private ready(): void {
    for (const connection of this.connections) {
      if (connection.status !== "ready") throw new TransportUnavailableError(`Redis is unreachable (${connection.status}); try again shortly`);
    }
  }

  /** Every listener may have missed events: jobs end with an `unavailable` error, commands fail. */
  private connectionLost(): void {
    if (this.closing) return;
    for (const listeners of [this.listeners, this.jobs]) {
      for (const [key, listener] of listeners) {
        // stays registered (its owner's release() removes it), but hears nothing more
        listeners.set(key, DEAF);
        listener.onLost();
      }
    }
  }

  async admit(model: string, jobId: string, limits: QueueLimits): Promise<Admission> {
    this.ready();
    return this.ledger.admit(model, jobId, limits);
  }

  leave(model: string, jobId: string): Promise<void> {
    return this.ledger.leave(model, jobId);
  }

  async queueStats(): Promise<QueueStats[]> {
    this.ready();
    return this.ledger.stats();
  }

  async submit(job: JobMessage, onEvent: (event: JobEvent) => void, options: SubmitOptions = {}): Promise<Submission> {
    this.ready();
    // ioredis subscribes the channel again by itself after a reconnection.
    this.repliesSubscribed ??= this.subscriber.subscribe(this.replies).catch((error: unknown) => {
      this.repliesSubscribed = undefined;
      throw error;
    });
    await overRedis(this.repliesSubscribed);
    this.jobs.set(job.id, {
      onMessage: (message) => {
        const parsed = JobEvent.safeParse(message);
        // A message we cannot read (e.g. another wire version) ends the request loudly.
        onEvent(parsed.success ? parsed.data : { v: WIRE_VERSION, type: "error", id: job.id, seq: -1, code: "internal", message: "unreadable message from worker (wire version mismatch?)" });
      },
      onLost: () => onEvent({ v: WIRE_VERSION, type: "error", id: job.id, seq: -1, code: "unavailable", message: "lost the connection to Redis while the request ran; try again" }),
    });
    const release = async () => void this.jobs.delete(job.id);
    try {
      await overRedis(
        this.queue(job.model).add("chat", { ...job, reply_to: this.replies }, {
          jobId: job.id,
          removeOnComplete: true,
          removeOnFail: true,
          attempts: 1,
          // BullMQ takes prioritized jobs lowest number first, equal numbers in arrival order.
          ...(options.priority !== undefined && { priority: options.priority }),
        }),
      );
    } catch (error) {
      await release();
      throw error;
    }
    return { cancel: (reason) => overRedis(this.cancel(job, reason)), release };
  }

  /** Its ioredis failures stay as they are: every caller catches them and quotes them per worker. */
  async command(workerId: string, command: WorkerCommand, timeoutMs: number, options: CommandOptions = {}): Promise<CommandReply> {
    // A cancel travels like a job's: the worker keeps command ids and job ids in one map.
    const cancel = () => {
      const message: CancelMessage = { v: WIRE_VERSION, type: "cancel", id: command.id, reason: `${command.type} cancelled` };
      this.redis.publish(this.names.cancel, JSON.stringify(message)).catch(() => undefined);
    };
    this.ready();
    const wait = waitForCommand(workerId, command, timeoutMs, options, cancel);
    // Progress and the reply share the reply channel (published in order by one connection).
    const release = await this.listen(
      this.names.reply(command.id),
      (message) => {
        if ((message as { type?: unknown } | undefined)?.type === "progress") {
          const progress = CommandProgress.safeParse(message);
          if (progress.success) wait.progress(progress.data);
          return;
        }
        const parsed = CommandReply.safeParse(message);
        if (parsed.success) wait.reply(parsed.data);
        else wait.fail(new Error("unreadable reply from worker"));
      },
      () => wait.fail(new TransportUnavailableError("lost the connection to Redis before the worker answered")),
    );
    try {
      // Cancelled while subscribing: the worker never hears of it.
      if (options.signal?.aborted) return await wait.result();
      const receivers = await this.redis.publish(this.names.commands(workerId), JSON.stringify(command));
      if (receivers === 0) wait.fail(new Error(`worker ${workerId} is not listening`));
      return await wait.result();
    } finally {
      wait.dispose();
      await release();
    }
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    this.ready();
    return (await overRedis(this.redis.set(this.names.claim(key), "1", "PX", ttlMs, "NX"))) === "OK";
  }

  async releaseClaim(key: string): Promise<void> {
    await overRedis(this.redis.del(this.names.claim(key)));
  }

  async workers(): Promise<WorkerState[]> {
    this.ready();
    if (this.workersCache && Date.now() - this.workersCache.at <= WORKERS_CACHE_MS) return this.workersCache.states;
    return this.readWorkersFresh();
  }

  async refreshWorkers(): Promise<WorkerState[]> {
    this.ready();
    return this.readWorkersFresh();
  }

  /**
   * A read of the workers' states that starts after this call. While one is under way, the next
   * waits for it and is shared by every caller meanwhile, so that many refreshes at once (a burst
   * of requests for an unknown model) cost at most two SCANs in flight.
   */
  private readWorkersFresh(): Promise<WorkerState[]> {
    if (this.workersQueued) return this.workersQueued;
    if (!this.workersReading) return this.startWorkersRead();
    const queued = this.workersReading.then(() => {
      this.workersQueued = undefined;
      return this.startWorkersRead();
    });
    this.workersQueued = queued;
    return queued;
  }

  private startWorkersRead(): Promise<WorkerState[]> {
    const states = overRedis(this.readWorkers());
    this.workersCache = { at: Date.now(), states };
    const settled: Promise<void> = states
      .catch(() => {
        // a failed read is not remembered: the next call reads again
        if (this.workersCache?.states === states) this.workersCache = undefined;
      })
      .then(() => {
        if (this.workersReading === settled) this.workersReading = undefined;
      });
    this.workersReading = settled;
    return states;
  }

  close(): Promise<void> {
    this.closing ??= closeAll([
      ...[...this.queues.values()].map((queue) => () => queue.close()),
      () => this.subscriber.quit(),
      () => this.queueConnection.quit(),
      () => this.redis.quit(),
    ]);
    return this.closing;
  }

  /** Subscribes `channel` to `onMessage` (JSON-parsed); resolves once subscribed, with an unsubscribe. */
  private async listen(channel: string, onMessage: (message: unknown) => void, onLost: () => void): Promise<() => Promise<void>> {
    this.listeners.set(channel, { onMessage, onLost });
    await this.subscriber.subscribe(channel);
    return async () => {
      // Not awaited: while Redis is away it would wait for the reconnection (the channel is then
      // unsubscribed after ioredis subscribes it again), and nothing depends on its completion.
      if (this.listeners.delete(channel)) void this.subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  private dispatch(channel: string, raw: string): void {
    if (channel === this.replies) return this.dispatchJobEvents(raw);
    const listener = this.listeners.get(channel)?.onMessage;
    if (!listener) return;
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      message = undefined;
    }
    listener(message);
  }

  /** One job event, or an array of them (a worker's EventOutbox batch), each to its job. */
  private dispatchJobEvents(raw: string): void {
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      return; // no job to tell: caravan's workers send nothing but JSON here
    }
    for (const event of Array.isArray(message) ? message : [message]) {
      const id = (event as { id?: unknown } | null)?.id;
      if (typeof id === "string") this.jobs.get(id)?.onMessage(event);
    }
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
      try {
        const parsed = WorkerState.safeParse(JSON.parse(raw));
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
  }

  private queue(model: string): Queue {
    let queue = this.queues.get(model);
    if (!queue) {
      queue = new Queue(this.names.queue(model), { connection: this.queueConnection, prefix: this.names.bullPrefix });
      this.queues.set(model, queue);
    }
    return queue;
  }
}

interface Listener {
  onMessage: (message: unknown) => void;
  onLost: () => void;
}

const DEAF: Listener = { onMessage: () => undefined, onLost: () => undefined };
