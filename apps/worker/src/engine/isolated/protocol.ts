import type { Logprob, ToolCall, WorkerMetrics } from "@caravan/protocol";
import type { CatalogEntry } from "../../catalog/catalog.ts";
import type { LoadSettings } from "../load-options.ts";
import type { CompleteRequest, EmbedRequest, EmbedResult, EngineConfig, EngineLogLevel, GenerateRequest, GenerateResult } from "../types.ts";

/**
 * Messages between an IsolatedEngine and one of its runner processes (a child process that runs a
 * LlamaEngine for one model, loaded once). Both ends are this package at the same version and the channel is
 * Node's IPC with `serialization: "advanced"` (structured clone, so CatalogEntry's Date survives):
 * plain types suffice, no zod, no version field.
 */

/** A request as it crosses: the callbacks and the signal stay in the parent. */
export type WireGenerate = Omit<GenerateRequest, "signal" | "onText" | "onThinking" | "onToolCall" | "onLogprob" | "ready"> & { wantLogprobs: boolean };
export type WireComplete = Omit<CompleteRequest, "signal" | "onText" | "onLogprob" | "ready"> & { wantLogprobs: boolean };
export type WireEmbed = Omit<EmbedRequest, "signal">;

export type ToRunner =
  | { t: "init"; config: Omit<EngineConfig, "log"> }
  /** the runner's one load */
  | { t: "load"; id: number; entry: CatalogEntry; settings: LoadSettings }
  | { t: "generate"; id: number; req: WireGenerate }
  | { t: "complete"; id: number; req: WireComplete }
  | { t: "embed"; id: number; req: WireEmbed }
  | { t: "device"; id: number }
  | { t: "abort"; id: number }
  /** the parent has taken the last `events` and is ready for the next (one per `events`) */
  | { t: "more" }
  /** abort the model's requests, dispose it, then exit 0 */
  | { t: "close" };

/** One streamed piece, in the order the engine produced it; consecutive texts of one kind are merged. */
export type StreamEvent = { k: "text"; s: string } | { k: "thinking"; s: string } | { k: "tool"; call: ToolCall } | { k: "logprob"; e: Logprob };

/** An engine error as it crosses: its class by name, and an aborted generation's partial. */
export interface WireError {
  name: string;
  message: string;
  partial?: { text: string; metrics: WorkerMetrics };
}

export type FromRunner =
  | { t: "ready" }
  /** streamed pieces of the requests running, each request's in order; answered by one `more` */
  | { t: "events"; batches: Array<{ id: number; events: StreamEvent[] }> }
  | { t: "result"; id: number; value: GenerateResult | EmbedResult | { loadDurationNs: number; contextSize: number } | DeviceInfo }
  | { t: "error"; id: number; error: WireError }
  | { t: "log"; level: EngineLogLevel; message: string; fields?: Record<string, unknown> };

export interface DeviceInfo {
  gpu: boolean;
  vram?: { total: number; used: number };
}
