import type { ChunkMessage, DoneMessage, Logprob } from "@caravan/protocol";
import type { CollectedAnswer } from "../respond/collect.ts";
import { finishReason, usage, type FinishReason, type ResponseMeta, type Usage } from "./response-common.ts";

/** Worker events → OpenAI's legacy `text_completion` objects (/v1/completions). */

/** The legacy logprobs shape: parallel arrays, alternatives as `{token: logprob}` maps. */
export interface LegacyLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Array<Record<string, number>>;
  /** where each token starts, counted in characters from the start of the prompt (as OpenAI does) */
  text_offset: number[];
}

export interface TextChoice {
  text: string;
  index: 0;
  logprobs: LegacyLogprobs | null;
  finish_reason: FinishReason | null;
}

export interface TextCompletion extends ResponseMeta {
  object: "text_completion";
  choices: TextChoice[];
  /** streams: only with include_usage, null but on the last chunk */
  usage?: Usage | null;
}

export function legacyLogprobs(logprobs: Logprob[], startOffset: number): LegacyLogprobs {
  const result: LegacyLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let offset = startOffset;
  for (const l of logprobs) {
    result.tokens.push(l.token);
    result.token_logprobs.push(l.logprob);
    result.top_logprobs.push(Object.fromEntries((l.top_logprobs ?? []).map((top) => [top.token, top.logprob])));
    result.text_offset.push(offset);
    offset += l.token.length;
  }
  return result;
}

/** The whole answer (stream: false). `promptLength` positions text_offset. */
export function textCompletion(meta: ResponseMeta, answer: CollectedAnswer, options: { logprobs: boolean; promptLength: number }): TextCompletion {
  return {
    ...meta,
    object: "text_completion",
    choices: [
      {
        text: answer.content,
        index: 0,
        logprobs: options.logprobs ? legacyLogprobs(answer.logprobs, options.promptLength) : null,
        finish_reason: finishReason(answer.done, false),
      },
    ],
    usage: usage(answer.done),
  };
}

/** Turns a job's events, in order, into stream chunks, ending as ChatChunker does. */
export class TextChunker {
  private offset: number;

  constructor(
    private readonly meta: ResponseMeta,
    private readonly options: { includeUsage: boolean; logprobs: boolean; promptLength: number },
  ) {
    this.offset = options.promptLength;
  }

  next(event: ChunkMessage | DoneMessage): TextCompletion[] {
    if (event.type === "done") {
      const chunks = [this.chunk({ text: "", index: 0, logprobs: null, finish_reason: finishReason(event, false) })];
      if (this.options.includeUsage) chunks.push({ ...this.meta, object: "text_completion", choices: [], usage: usage(event) });
      return chunks;
    }
    if (event.content === "") return [];
    const logprobs = this.options.logprobs ? legacyLogprobs(event.logprobs ?? [], this.offset) : null;
    this.offset += event.content.length;
    return [this.chunk({ text: event.content, index: 0, logprobs, finish_reason: null })];
  }

  private chunk(choice: TextChoice): TextCompletion {
    return { ...this.meta, object: "text_completion", choices: [choice], ...(this.options.includeUsage && { usage: null }) };
  }
}
