import { ApiError, ConnectionError } from "./errors.ts";
import { ndjson } from "./ndjson.ts";
import type { ChatChunk, ChatRequest, ListedModel, PullProgress, RunningModel, ShowAnswer } from "./types.ts";

/** How long a plain (not streamed) request may take. */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * A client of Ollama's public HTTP API, for caravan or a real Ollama. Small on purpose: the
 * official `ollama` package logs to the console on some errors, sends the deprecated `name`
 * instead of `model` to /api/pull and /api/delete, and takes no AbortSignal outside streams.
 * Errors: ApiError (the server's status and message) or ConnectionError (no server).
 */
export class OllamaClient {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {}

  async list(): Promise<ListedModel[]> {
    return ((await this.json("GET", "/api/tags")) as { models?: ListedModel[] }).models ?? [];
  }

  async ps(): Promise<RunningModel[]> {
    return ((await this.json("GET", "/api/ps")) as { models?: RunningModel[] }).models ?? [];
  }

  async show(model: string, verbose = false): Promise<ShowAnswer> {
    return (await this.json("POST", "/api/show", { model, verbose })) as ShowAnswer;
  }

  /** DELETE /api/delete: 200, or 404 when there is no such model. */
  async delete(model: string): Promise<void> {
    await this.json("DELETE", "/api/delete", { model });
  }

  /** POST /api/copy: 200, or 404 when the source does not exist. */
  async copy(source: string, destination: string): Promise<void> {
    await this.json("POST", "/api/copy", { source, destination });
  }

  async embed(model: string, input: string, keepAlive?: string): Promise<number[][]> {
    return ((await this.json("POST", "/api/embed", { model, input, keep_alive: keepAlive })) as { embeddings?: number[][] }).embeddings ?? [];
  }

  /** POST /api/chat, streamed: the chunks as they come; the last one has done:true. */
  async *chat(request: ChatRequest, signal?: AbortSignal): AsyncGenerator<ChatChunk> {
    let done = false;
    for await (const chunk of this.stream<ChatChunk>("/api/chat", { ...request, stream: true }, signal)) {
      yield chunk;
      if (chunk.done) {
        done = true;
        break;
      }
    }
    if (!done) throw new ApiError(500, "the server ended the answer before it was done");
  }

  /** POST /api/pull, streamed: progress lines ending with {status:"success"}. */
  async *pull(model: string, insecure: boolean, signal?: AbortSignal): AsyncGenerator<PullProgress> {
    let success = false;
    for await (const update of this.stream<PullProgress>("/api/pull", { model, insecure, stream: true }, signal)) {
      yield update;
      if (update.status === "success") {
        success = true;
        break;
      }
    }
    if (!success) throw new ApiError(500, "the server ended the pull before it succeeded");
  }

  private async json(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await this.send(method, path, body, AbortSignal.timeout(this.timeoutMs));
    const text = await response.text();
    if (text.trim() === "") return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiError(response.status, `${method} ${path} answered with something that is not JSON: ${text.slice(0, 200)}`);
    }
  }

  private async *stream<T extends object>(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<T> {
    const response = await this.send("POST", path, body, signal);
    if (!response.body) return;
    try {
      for await (const item of ndjson<T & { error?: unknown }>(response.body)) {
        // after streaming began, a failure is a last {"error": …} line (the status stays 200)
        if (item.error !== undefined) throw new ApiError(response.status, errorMessage(item.error) ?? "unknown error");
        yield item as T;
      }
    } catch (error) {
      throw this.connectionError(error, "stream");
    }
  }

  private async send(method: string, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        headers: { ...(body !== undefined && { "content-type": "application/json" }), ...authorization() },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      throw this.connectionError(error, "connect");
    }
    if (!response.ok) throw await this.apiError(method, path, response);
    return response;
  }

  private async apiError(method: string, path: string, response: Response): Promise<ApiError> {
    const text = await response.text().catch(() => "");
    let message: string | undefined;
    try {
      message = errorMessage((JSON.parse(text) as { error?: unknown }).error);
    } catch {
      message = text.trim() || undefined;
    }
    message ??= `${response.status} ${response.statusText}`;
    // an unknown route (Ollama and caravan both say "404 page not found"): name what is missing
    if (/page not found/i.test(message) || response.status === 405) {
      message = `the server at ${this.baseUrl} does not have ${method} ${path} (${message})`;
    }
    return new ApiError(response.status, message);
  }

  /** fetch's "fetch failed" / "terminated" TypeErrors, with their cause; anything else as it is. */
  private connectionError(error: unknown, during: "connect" | "stream"): unknown {
    if (error instanceof ApiError) return error;
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return new ConnectionError(`no answer from ${this.baseUrl} within ${this.timeoutMs / 1000} s`);
    }
    if (!(error instanceof TypeError)) return error;
    const cause = (error as { cause?: { message?: string; code?: string } }).cause;
    const why = cause?.message || cause?.code || error.message;
    if (during === "stream") return new ConnectionError(`the connection to ${this.baseUrl} broke: ${why}`);
    return new ConnectionError(`could not connect to ${this.baseUrl} (${why}): is the server running? "caravan serve" starts one; --host points elsewhere`);
  }
}

/** Ollama's `{"error": "…"}`, or an OpenAI-style `{"error": {"message": "…"}}`. */
function errorMessage(error: unknown): string | undefined {
  if (typeof error === "string") return error;
  if (error && typeof error === "object" && typeof (error as { message?: unknown }).message === "string") return (error as { message: string }).message;
  return error === undefined ? undefined : JSON.stringify(error);
}

/** `Authorization: Bearer` from CARAVAN_API_KEY (or OLLAMA_API_KEY, as ollama-python reads it), when set. */
function authorization(): Record<string, string> {
  const key = process.env.CARAVAN_API_KEY || process.env.OLLAMA_API_KEY;
  return key ? { authorization: `Bearer ${key}` } : {};
}
