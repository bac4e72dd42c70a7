import type { ChatMessage, Format, Logprob, ModelOptions, Think, Tool, ToolCall, ToolChoice, WorkerMetrics } from "@caravan/protocol";

export type EngineLogLevel = "debug" | "info" | "warn" | "error";
export type EngineLog = (level: EngineLogLevel, message: string, fields?: Record<string, unknown>) => void;

export interface EngineConfig {
  /** CPU threads per context; on a 2-core machine 1 is fastest (4, the library default, collapses) */
  threads: number;
  /** sequences per loaded model: how many requests for one model run at once */
  numParallel: number;
  gpu: false | "auto" | "cuda" | "vulkan" | "metal";
  /** num_ctx when a request does not set it, capped at the model's trained context (Ollama: 4096) */
  defaultNumCtx: number;
  log?: EngineLog;
}

export interface GenerateRequest {
  messages: ChatMessage[];
  /** sampling options; load options (num_ctx, …) were the model's to apply when it was loaded */
  options: ModelOptions;
  /** constrain the output: "json" or a JSON schema, enforced by a grammar ("" = none) */
  format?: Format;
  /** aborts waiting and generation; the call then rejects with GenerationAbortedError */
  signal: AbortSignal;
  /** each piece of text as soon as it exists */
  onText: (text: string) => void;
  /** functions the model may call (see tools.ts for tool_choice and the combination with format) */
  tools?: Tool[];
  toolChoice?: ToolChoice;
  /** thinking on/off; levels mean on (see thinking.ts) */
  think?: Think;
  /** each piece of thought text as soon as it exists (never passed to onText) */
  onThinking?: (text: string) => void;
  /** each tool call, whole, as soon as it is complete */
  onToolCall?: (call: ToolCall) => void;
  /** report the log probability of each token in the answer through onLogprob (see logprobs.ts) */
  logprobs?: boolean;
  /** with logprobs: this many most likely alternatives per token (0..20) */
  topLogprobs?: number;
  /**
   * the entries of the tokens that produced a piece of text, called right before that text goes
   * to onText or onThinking: their `token`s join to exactly it and their `bytes` are its bytes.
   * Tokens whose text never goes out (EOS and other control tokens, a stop sequence, a tool
   * call's syntax, whitespace `format` trims) get none; a token only partly released gets one
   * with that part (see LogprobLedger)
   */
  onLogprob?: (entry: Logprob) => void;
  /**
   * whether what takes the streamed pieces (onText & co.) takes more at once (undefined), or a
   * promise that settles once it does (the transport has sent what it took last). An engine whose
   * pieces cross a process boundary holds them until then, so that what comes meanwhile crosses
   * in one message; one that calls the callbacks in process need not ask
   */
  ready?: () => Promise<void> | undefined;
}

export interface GenerateResult {
  /** "length": num_predict or the context ran out; "stop": EOS or a stop sequence */
  doneReason: "stop" | "length";
  /** the whole generated text (what onText delivered) */
  text: string;
  /** chat: the whole thought text (what onThinking delivered) */
  thinking?: string;
  /** chat: the tool calls (what onToolCall delivered) */
  toolCalls?: ToolCall[];
  /** nanoseconds, integers */
  metrics: WorkerMetrics;
}

export interface CompleteRequest {
  /** raw text, sent without the chat template */
  prompt: string;
  /** text after the insertion point: a fill-in-the-middle completion (models with FIM tokens only) */
  suffix?: string;
  options: ModelOptions;
  format?: Format;
  signal: AbortSignal;
  onText: (text: string) => void;
  /** as in GenerateRequest */
  logprobs?: boolean;
  topLogprobs?: number;
  onLogprob?: (entry: Logprob) => void;
  ready?: () => Promise<void> | undefined;
}

export interface EmbedRequest {
  inputs: string[];
  /** cut inputs longer than the context instead of failing */
  truncate: boolean;
  /** L2-normalize the vectors */
  normalize: boolean;
  /** keep only the leading dimensions */
  dimensions?: number;
  signal: AbortSignal;
}

export interface EmbedResult {
  /** one per input, in order */
  vectors: number[][];
  /** eval_count and eval_duration are 0: nothing is generated */
  metrics: WorkerMetrics;
}
