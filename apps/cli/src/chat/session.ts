import type { ChatRequest, Message } from "../client/types.ts";

/**
 * What an interactive `caravan run` remembers until it exits: the conversation (sent whole with
 * every turn, as Ollama's CLI does), the system message, the options set with `/set parameter`,
 * and the modes (`/set format json`, `/set think`, `/set verbose`).
 */
export class ChatSession {
  messages: Message[] = [];
  system: string | undefined;
  readonly options: Record<string, unknown> = {};
  format: "json" | undefined;
  think: boolean | string | undefined;
  verbose: boolean;
  keepAlive: string | undefined;

  constructor(
    readonly model: string,
    settings: { verbose?: boolean; format?: "json"; think?: boolean | string; keepAlive?: string } = {},
  ) {
    this.verbose = settings.verbose ?? false;
    this.format = settings.format;
    this.think = settings.think;
    this.keepAlive = settings.keepAlive;
  }

  addUser(content: string): void {
    this.messages.push({ role: "user", content });
  }

  addAssistant(content: string, thinking?: string): void {
    this.messages.push({ role: "assistant", content, ...(thinking ? { thinking } : {}) });
  }

  /** Takes back the last user message (its answer failed), so the history stays alternating. */
  dropLastUser(): void {
    if (this.messages.at(-1)?.role === "user") this.messages.pop();
  }

  /** Forgets the conversation; the system message stays, as in Ollama. */
  clear(): void {
    this.messages = this.system === undefined ? [] : [{ role: "system", content: this.system }];
  }

  /** A new system message replaces one that ends the history, else it is added (Ollama's rule). */
  setSystem(content: string): void {
    this.system = content;
    const last = this.messages.at(-1);
    if (last?.role === "system") last.content = content;
    else this.messages.push({ role: "system", content });
  }

  /** The request for the next answer: the whole history. */
  chatRequest(): ChatRequest {
    return this.request(this.messages);
  }

  /** The request that loads the model (empty messages), as Ollama's CLI sends before the first prompt. */
  loadRequest(): ChatRequest {
    return this.request([]);
  }

  private request(messages: Message[]): ChatRequest {
    return {
      model: this.model,
      messages: messages.map((m) => ({ ...m })),
      ...(Object.keys(this.options).length ? { options: { ...this.options } } : {}),
      ...(this.format ? { format: this.format } : {}),
      ...(this.think !== undefined ? { think: this.think } : {}),
      ...(this.keepAlive !== undefined ? { keep_alive: this.keepAlive } : {}),
    };
  }
}
