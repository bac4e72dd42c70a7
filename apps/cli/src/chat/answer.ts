import type { OllamaClient } from "../client/ollama-client.ts";
import type { ChatChunk, ChatRequest } from "../client/types.ts";
import { Spinner } from "../progress/spinner.ts";
import { TerminalProgress, type TerminalStream } from "../progress/terminal-progress.ts";

export interface AnswerOptions {
  /** where the answer goes */
  out: { write(text: string): unknown };
  /** a terminal to turn a spinner on until the first token, or undefined for none */
  spinnerOn?: TerminalStream;
  /** grey "Thinking..." on a terminal, plain words otherwise */
  colour: boolean;
  hideThinking?: boolean;
  /** aborting it stops the answer (Ctrl+C) */
  signal?: AbortSignal;
}

export interface Answer {
  content: string;
  thinking: string;
  /** the last (done) chunk, with the metrics; undefined when aborted */
  final?: ChatChunk;
  aborted: boolean;
}

const GREY = "\u001b[38;5;245m";
const BOLD = "\u001b[1m";
const RESET = "\u001b[0m";

/**
 * Streams one answer to `out` as its tokens come, as Ollama's CLI does: a spinner until the
 * first token, thinking between "Thinking..." and "...done thinking.", then the content.
 * An abort ends it quietly with what came so far; other failures are thrown.
 */
export async function streamAnswer(client: OllamaClient, request: ChatRequest, options: AnswerOptions): Promise<Answer> {
  const { out, colour } = options;
  const progress = options.spinnerOn ? new TerminalProgress(options.spinnerOn) : undefined;
  progress?.add(new Spinner("", Date.now()));
  const answer: Answer = { content: "", thinking: "", aborted: false };
  let thinkingOpen = false;
  try {
    for await (const chunk of client.chat(request, options.signal)) {
      const content = chunk.message?.content ?? "";
      const thinking = options.hideThinking ? "" : (chunk.message?.thinking ?? "");
      if (content || thinking) progress?.stopAndClear();
      if (thinking) {
        if (!thinkingOpen) out.write(colour ? `${GREY}${BOLD}Thinking...\n${RESET}${GREY}` : "Thinking...\n");
        thinkingOpen = true;
        answer.thinking += thinking;
        out.write(thinking);
      }
      if (content && thinkingOpen) {
        if (!answer.thinking.endsWith("\n")) out.write("\n");
        out.write(colour ? `${GREY}${BOLD}...done thinking.\n\n${RESET}` : "...done thinking.\n\n");
        thinkingOpen = false;
      }
      answer.content += content;
      out.write(content);
      if (chunk.done) answer.final = chunk;
    }
  } catch (error) {
    if (!options.signal?.aborted) throw error;
    answer.aborted = true;
  } finally {
    progress?.stopAndClear();
    if (thinkingOpen && colour) out.write(RESET);
  }
  return answer;
}

/** Sends a request whose answer has no text (load: messages []; unload: keep_alive 0), spinner on a terminal. */
export async function loadOrUnload(client: OllamaClient, request: ChatRequest, spinnerOn?: TerminalStream): Promise<void> {
  const progress = spinnerOn ? new TerminalProgress(spinnerOn) : undefined;
  progress?.add(new Spinner("", Date.now()));
  try {
    for await (const _ of client.chat(request));
  } finally {
    progress?.stopAndClear();
  }
}
