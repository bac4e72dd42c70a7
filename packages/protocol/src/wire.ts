import { z } from "zod";
import { ChatMessage, DoneReason, Format, GenerationMetrics, Logprob, Think, Tool, ToolCall, ToolChoice } from "./ollama/chat.ts";
import { ProgressResponse } from "./ollama/models.ts";
import { ModelOptions } from "./ollama/options.ts";
import { Capability, ShowInfo } from "./ollama/show.ts";
import { ListedModel } from "./ollama/tags.ts";

/**
 * The gateway⇄worker messages. Every message that crosses a process boundary is one of these,
 * with a version field so that a gateway and a worker of different releases refuse each other's
 * messages loudly instead of misreading them.
 */
export const WIRE_VERSION = 1;
const v = z.literal(WIRE_VERSION, { error: (issue) => `wire version ${JSON.stringify(issue.input)}; this side speaks ${WIRE_VERSION}` });

/** What a job asks of the model (see JobMessage). */
export const JobKind = z.enum(["chat", "completion", "embed"]);
export type JobKind = z.infer<typeof JobKind>;

/** W3C trace context (https://www.w3.org/TR/trace-context/): the gateway's span that the worker's spans continue. */
export const TraceContext = z.object({ traceparent: z.string(), tracestate: z.string().optional() });
export type TraceContext = z.infer<typeof TraceContext>;

/** What every job carries, whatever its kind. */
const JobEnvelope = z.object({
  v,
  type: z.literal("job"),
  /** unique per request; names the chunk channel */
  id: z.string(),
  /** canonical model name (lower case, with tag) */
  model: z.string(),
  options: ModelOptions,
  /** parsed keep_alive in ms (-1 = forever); absent = the server's default */
  keep_alive_ms: z.number().optional(),
  /** epoch ms when the gateway accepted the request */
  accepted_at: z.number(),
  /** the gateway's span that waits for this job; the worker's spans are its children */
  trace: TraceContext.optional(),
  /**
   * the pub/sub channel for the job's events, shared by the submitting gateway's jobs (events
   * carry the job id), so that a worker can send several jobs' events in one message. Set by the
   * transport, not by the gateway's request handling; the in-process transport needs none.
   */
  reply_to: z.string().optional(),
});

/**
 * What each kind cannot run without. A request with nothing to run (a load) is never queued as a
 * job: the gateway checks a job against this before it queues it, and a worker parses it with the rest.
 */
export const JobInput = z.discriminatedUnion("kind", [
  /** the conversation */
  z.object({ kind: z.literal("chat"), messages: z.array(ChatMessage).min(1, { error: "a chat job needs at least one message" }) }),
  /** the raw text to continue */
  z.object({ kind: z.literal("completion"), prompt: z.string().min(1, { error: "a completion job needs a prompt" }) }),
  /** the texts to embed */
  z.object({ kind: z.literal("embed"), input: z.array(z.string()).min(1, { error: "an embed job needs at least one input" }) }),
]);
export type JobInput = z.infer<typeof JobInput>;
const [chatInput, completionInput, embedInput] = JobInput.options;

/** How a generation may answer: JSON or a schema, and each token's log probability. */
const Output = {
  format: Format.optional(),
  logprobs: z.boolean().optional(),
  top_logprobs: z.number().int().optional(),
};

/** `chat`: the next assistant turn of `messages`, through the chat template. */
export const ChatJob = JobEnvelope.extend({
  ...chatInput.shape,
  tools: z.array(Tool).optional(),
  tool_choice: ToolChoice.optional(),
  think: Think.optional(),
  ...Output,
});
export type ChatJob = z.infer<typeof ChatJob>;

/** `completion`: `prompt` continued as raw text, no template. */
export const CompletionJob = JobEnvelope.extend({
  ...completionInput.shape,
  /** text after the insertion point (fill-in-the-middle) */
  suffix: z.string().optional(),
  ...Output,
});
export type CompletionJob = z.infer<typeof CompletionJob>;

/** `embed`: one vector per text of `input`. */
export const EmbedJob = JobEnvelope.extend({
  ...embedInput.shape,
  /** cut inputs longer than the context instead of failing */
  truncate: z.boolean(),
  /** L2-normalize the vectors (/api/embed does, the legacy /api/embeddings does not) */
  normalize: z.boolean(),
  /** keep this many leading dimensions */
  dimensions: z.number().int().optional(),
});
export type EmbedJob = z.infer<typeof EmbedJob>;

/**
 * A request for one generation, as the gateway enqueues it (already validated and parsed): a
 * chat, a completion or an embedding, each with the fields of its kind only
 * (/api/generate without `raw` is a chat of one user turn).
 */
export const JobMessage = z.discriminatedUnion("kind", [ChatJob, CompletionJob, EmbedJob]);
export type JobMessage = z.infer<typeof JobMessage>;

/** Generated text. `seq` starts at 0 and increases by one per message of a job, of any type. */
export const ChunkMessage = z.object({
  v,
  type: z.literal("chunk"),
  id: z.string(),
  seq: z.number().int(),
  content: z.string(),
  thinking: z.string().optional(),
  tool_calls: z.array(ToolCall).optional(),
  /** the entries of the tokens that produced this chunk's text: their `token`s join to its content (or thinking) */
  logprobs: z.array(Logprob).optional(),
});
export type ChunkMessage = z.infer<typeof ChunkMessage>;

/** Worker-side timings, nanoseconds. total_duration is the gateway's to measure. */
export const WorkerMetrics = GenerationMetrics.omit({ total_duration: true });
export type WorkerMetrics = z.infer<typeof WorkerMetrics>;

export const DoneMessage = z.object({
  v,
  type: z.literal("done"),
  id: z.string(),
  seq: z.number().int(),
  done_reason: DoneReason,
  metrics: WorkerMetrics,
  worker_id: z.string(),
  /** embed jobs: one vector per input, in order */
  embeddings: z.array(z.array(z.number())).optional(),
});
export type DoneMessage = z.infer<typeof DoneMessage>;

/** Stable error codes; the gateway maps them to HTTP statuses in one place. */
/**
 * `unavailable`: the gateway lost its connection to Redis while the job ran (its events may be
 * lost), or the worker has no room for the load the job needs now; either way, try again.
 */
export const ErrorCode = z.enum(["model_not_found", "bad_request", "cancelled", "engine_error", "worker_lost", "queue_timeout", "unavailable", "internal"]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorMessage = z.object({
  v,
  type: z.literal("error"),
  id: z.string(),
  seq: z.number().int(),
  code: ErrorCode,
  message: z.string(),
});
export type ErrorMessage = z.infer<typeof ErrorMessage>;

/** From the gateway: stop this job (its client went away). */
export const CancelMessage = z.object({
  v,
  type: z.literal("cancel"),
  id: z.string(),
  reason: z.string(),
});
export type CancelMessage = z.infer<typeof CancelMessage>;

/**
 * The first event of every job: which worker took it. The gateway watches that worker's
 * heartbeat from then on, and knows the job left the queue.
 */
export const StartedMessage = z.object({
  v,
  type: z.literal("started"),
  id: z.string(),
  seq: z.number().int(),
  worker_id: z.string(),
});
export type StartedMessage = z.infer<typeof StartedMessage>;

/** Everything a worker sends back about one job. */
export const JobEvent = z.discriminatedUnion("type", [StartedMessage, ChunkMessage, DoneMessage, ErrorMessage]);
export type JobEvent = z.infer<typeof JobEvent>;

/** done and error end a job's event stream; nothing follows them. */
export function isTerminalEvent(event: JobEvent): event is DoneMessage | ErrorMessage {
  return event.type === "done" || event.type === "error";
}

/**
 * From a gateway to one worker. `load` loads the model (or, if loaded, only sets its sticky
 * keep_alive) and starts its idle timer; `unload` unloads it once its requests are done.
 */
export const WorkerCommand = z.discriminatedUnion("type", [
  /** `trace`: the request whose arrival caused the load, so that its trace shows the load */
  z.object({ v, type: z.literal("load"), id: z.string(), model: z.string(), keep_alive_ms: z.number().optional(), options: ModelOptions, trace: TraceContext.optional() }),
  z.object({ v, type: z.literal("unload"), id: z.string(), model: z.string() }),
  /** describe a model from its file (for /api/show); loads nothing */
  z.object({ v, type: z.literal("show"), id: z.string(), model: z.string(), verbose: z.boolean() }),
  /**
   * download `url` into the models folder as `file` (a name modelFileStem accepts, plus `.gguf`),
   * reporting CommandProgress until the reply
   */
  z.object({ v, type: z.literal("pull"), id: z.string(), url: z.string(), file: z.string() }),
  /** remove the model's file (unloading it first); refused with `busy` while requests use it */
  z.object({ v, type: z.literal("delete"), id: z.string(), model: z.string() }),
  /** make `destination` (a name modelFileStem accepts) another name of the model's file */
  z.object({ v, type: z.literal("copy"), id: z.string(), source: z.string(), destination: z.string() }),
]);
export type WorkerCommand = z.infer<typeof WorkerCommand>;

/**
 * A worker's answer to a command. `no_room`: the model does not fit beside busy models (now);
 * `too_large`: with the options asked for it needs more than the worker's whole memory budget (ever).
 */
export const CommandReply = z.object({
  v,
  type: z.literal("reply"),
  id: z.string(),
  worker_id: z.string(),
  ok: z.boolean(),
  /** `busy`: requests use the model (delete); `bad_request`: a name refused, a destination taken; `failed`: a pull, copy or delete went wrong */
  code: z.enum(["no_room", "too_large", "model_not_found", "engine_error", "draining", "busy", "bad_request", "failed"]).optional(),
  message: z.string().optional(),
  /** ns spent loading for this command (0 when it was loaded already) */
  load_duration: z.number().int().optional(),
  /** the answer to `show` */
  show: ShowInfo.optional(),
  /** the answer to `pull`: the file's sha256 and size, and whether it was downloaded (false: it was there already) */
  pulled: z.object({ digest: z.string(), size: z.number().int(), downloaded: z.boolean() }).optional(),
});
export type CommandReply = z.infer<typeof CommandReply>;

/**
 * What a worker reports about a long command (a pull) before its reply, on the reply's channel.
 * The gateway's wait for the reply restarts with each one, so a long download is not a timeout.
 */
export const CommandProgress = z.object({
  v,
  type: z.literal("progress"),
  /** the command's id */
  id: z.string(),
  worker_id: z.string(),
  progress: ProgressResponse,
});
export type CommandProgress = z.infer<typeof CommandProgress>;

/** One loaded (or loading) copy of a model on a worker, as the worker reports it. */
export const LoadedCopy = z.object({
  /** canonical model name */
  model: z.string(),
  /** still loading: takes no jobs yet, but counts as capacity on its way */
  loading: z.boolean(),
  /** estimated memory held: weights + KV cache of all sequences, bytes */
  size_bytes: z.number().int(),
  /** context size per sequence */
  context_length: z.number().int(),
  /** sequences running a request now */
  busy: z.number().int(),
  /** sequences in all */
  slots: z.number().int(),
  /** the sticky keep_alive in ms (-1 = forever) */
  keep_alive_ms: z.number(),
  /** epoch ms when it will be unloaded if no request comes; null = never (or busy with forever) */
  expires_at: z.number().nullable(),
  /** epoch ms of the last request's end (or the load) */
  last_used_at: z.number(),
});
export type LoadedCopy = z.infer<typeof LoadedCopy>;

/** A model file a worker can serve, with what it can do (the gateway checks requests against it). */
export const AdvertisedModel = ListedModel.extend({ capabilities: z.array(Capability) });
export type AdvertisedModel = z.infer<typeof AdvertisedModel>;

/** What a worker advertises about itself (heartbeat); the gateway's cluster views read it. */
export const WorkerState = z.object({
  v,
  worker_id: z.string(),
  /** models this worker can serve (files in its models folder) */
  models: z.array(AdvertisedModel),
  /**
   * a random id kept in the models folder (`.caravan-folder-id`): workers that advertise the same
   * one share a folder, so a pull, delete or copy goes to one of them only
   */
  models_folder_id: z.string().optional(),
  num_parallel: z.number().int(),
  /** jobs running now */
  busy: z.number().int(),
  started_at: z.number(),
  /** shutting down: finishing its running jobs, taking no new ones or loads */
  draining: z.boolean(),
  /** what is loaded (or loading) now */
  loaded: z.array(LoadedCopy),
  /** most models loaded at once (CARAVAN_MAX_LOADED_MODELS) */
  max_loaded_models: z.number().int(),
  /** memory the worker may use for models (CARAVAN_MEMORY_BUDGET or derived), and in use, bytes */
  memory_budget_bytes: z.number().int(),
  memory_used_bytes: z.number().int(),
  /** the engine's name: "llama" (node-llama-cpp) */
  engine: z.string(),
  /** models run on a GPU (their memory is VRAM) */
  gpu: z.boolean(),
});
export type WorkerState = z.infer<typeof WorkerState>;
