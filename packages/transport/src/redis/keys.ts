/**
 * Every Redis key and channel caravan uses, in one place. A prefix keeps several caravan
 * clusters (or test runs) apart on one Redis.
 */
export interface RedisNames {
  /** BullMQ's own key prefix */
  bullPrefix: string;
  /** the BullMQ queue that holds a model's jobs (BullMQ forbids ":" in queue names) */
  queue(model: string): string;
  /** pub/sub channel one gateway's jobs' events travel on (the jobs' `reply_to`) */
  replies(gatewayId: string): string;
  /** pub/sub channel for cancel messages, heard by every worker */
  cancel: string;
  /** marker that a job was cancelled, for a worker that picks it up after the cancel was sent */
  cancelled(jobId: string): string;
  /** a worker's advertised state, with a TTL: it disappears when the worker stops beating */
  worker(workerId: string): string;
  workerPattern: string;
  /** sorted set of a model's admitted, not yet taken jobs (score: admitted at, epoch ms) */
  queuedPrefix: string;
  /** set of models that have admitted jobs */
  queuedModels: string;
  /** pub/sub channel of commands for one worker */
  commands(workerId: string): string;
  /** pub/sub channel a command's reply travels on */
  reply(commandId: string): string;
  /** a placement lease */
  claim(key: string): string;
}

export function redisNames(prefix: string): RedisNames {
  return {
    bullPrefix: `${prefix}:bull`,
    queue: (model) => `chat-${model.replaceAll(":", "@")}`,
    replies: (gatewayId) => `${prefix}:replies:${gatewayId}`,
    cancel: `${prefix}:cancel`,
    cancelled: (jobId) => `${prefix}:cancelled:${jobId}`,
    worker: (workerId) => `${prefix}:worker:${workerId}`,
    workerPattern: `${prefix}:worker:*`,
    queuedPrefix: `${prefix}:queued:`,
    queuedModels: `${prefix}:queued-models`,
    commands: (workerId) => `${prefix}:commands:${workerId}`,
    reply: (commandId) => `${prefix}:reply:${commandId}`,
    claim: (key) => `${prefix}:claim:${key}`,
  };
}

/**
 * How long a worker's state lives without a heartbeat (workers beat every 2 s), and how long
 * cancel markers live. A killed worker vanishes from every gateway's view within this TTL.
 */
export const WORKER_STATE_TTL_MS = 6000;
export const CANCELLED_MARKER_TTL_S = 600;
