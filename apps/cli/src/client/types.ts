import type { Metrics } from "../format/metrics.ts";

// The fields the CLI reads from and sends to Ollama's public API. The CLI talks to any
// Ollama-compatible server (a real Ollama included), whose answers carry fields caravan's do not
// and the other way round, so these are lenient reader views: what is absent is optional. The
// server's own schemas are in @caravan/protocol.

export interface ModelDetails {
  family?: string;
  parameter_size?: string;
  quantization_level?: string;
}

/** One model of GET /api/tags. */
export interface ListedModel {
  name: string;
  /** bytes */
  size?: number;
  /** sha256 hex, sometimes with a "sha256:" prefix */
  digest?: string;
  /** RFC 3339 */
  modified_at?: string;
  details?: ModelDetails;
}

/** One loaded model of GET /api/ps. */
export interface RunningModel extends ListedModel {
  /** RFC 3339; far in the future when kept loaded forever */
  expires_at?: string;
  /** bytes in GPU memory (0 = all on the CPU) */
  size_vram?: number;
  context_length?: number;
}

/** POST /api/show's answer. */
export interface ShowAnswer {
  modelfile?: string;
  parameters?: string;
  template?: string;
  system?: string;
  license?: string;
  details?: ModelDetails;
  /** GGUF metadata, dotted keys */
  model_info?: Record<string, unknown>;
  capabilities?: string[];
}

export interface Message {
  role: string;
  content: string;
  thinking?: string;
}

/** POST /api/chat, always streamed by the CLI. */
export interface ChatRequest {
  model: string;
  messages: Message[];
  options?: Record<string, unknown>;
  /** "json" or a JSON schema */
  format?: string | Record<string, unknown>;
  think?: boolean | string;
  /** seconds or a Go duration such as "5m"; 0 unloads */
  keep_alive?: string | number;
}

/** One NDJSON object of /api/chat's stream; the last one has done:true and the metrics. */
export interface ChatChunk extends Metrics {
  message?: { role?: string; content?: string; thinking?: string };
  done?: boolean;
  /** stop, length, load, unload */
  done_reason?: string;
}

/** One NDJSON object of POST /api/pull's stream; ends with {status:"success"}. */
export interface PullProgress {
  status: string;
  /** the layer being downloaded, "sha256:…" */
  digest?: string;
  /** bytes of that layer */
  total?: number;
  /** bytes of it downloaded so far */
  completed?: number;
}
