import type { Logprob } from "@caravan/protocol";
import type { LlamaModel, SequenceEvaluateMetadataOptions, Token } from "node-llama-cpp";
import { LogprobLedger } from "./logprob-ledger.ts";
import type { SampledToken } from "./token-probe.ts";

/** What the sampler must return with each token for `logprobs` / `top_logprobs`. */
export function logprobMetadata(top: number): SequenceEvaluateMetadataOptions {
  // The sampled token's probability is cheap; the whole distribution only when alternatives are wanted.
  return top > 0 ? { probabilities: true, confidence: true } : { confidence: true };
}

/**
 * A request's logprobs: what to sample with each token, and each sampled token's entry held
 * until its text is released, then given to `onLogprob` right before that text goes out. So
 * the entries given before a piece of text are its tokens and join to it; tokens whose text
 * never goes out (EOS, a stop sequence, a tool call's syntax, trimmed whitespace) get none. See
 * LogprobLedger for tokens that are partly released.
 */
export class RequestLogprobs {
  private readonly ledger = new LogprobLedger();
  /** what the sampler must return with each token (the slot's sampleMetadata) */
  readonly metadata: SequenceEvaluateMetadataOptions;

  private constructor(
    private readonly texts: TokenTexts,
    private readonly top: number,
    private readonly onLogprob: (entry: Logprob) => void,
  ) {
    this.metadata = logprobMetadata(top);
  }

  /** undefined when the request wants none */
  static of(req: { logprobs?: boolean; topLogprobs?: number; onLogprob?: (entry: Logprob) => void }, texts: TokenTexts): RequestLogprobs | undefined {
    if (!req.logprobs || req.onLogprob === undefined) return undefined;
    return new RequestLogprobs(texts, Math.max(0, Math.min(req.topLogprobs ?? 0, 20)), req.onLogprob);
  }

  sampled(sample: SampledToken): void {
    this.ledger.sampled(toLogprob(sample, this.top, this.texts), !this.texts.isControl(sample.token));
  }

  /**
   * `deliver` for released text, with the text's entries given first. Without `deliver` (a
   * thought nobody asked for) the text still uses its entries up, unreported.
   */
  before(deliver: ((text: string) => void) | undefined): (text: string) => void {
    return (text) => {
      const entries = this.ledger.release(text);
      if (deliver === undefined) return;
      for (const entry of entries) this.onLogprob(entry);
      deliver(text);
    };
  }
}

/**
 * One sampled token as Ollama reports it: its text, the natural log of its probability, its
 * bytes, and (top > 0) the `top` most likely tokens at that step. RequestLogprobs then cuts
 * `token` and `bytes` to the part of the text that reaches the answer.
 *
 * The probabilities are those of the distribution the token was actually drawn from, i.e. after
 * temperature, top_k, top_p, min_p, repetition penalties and any grammar (format, tool calls).
 * Ollama reports the model's raw softmax instead. The two agree under greedy decoding
 * (temperature 0); otherwise ours are sharper, and tokens cut off by top_k/top_p have probability
 * 0 and are left out of `top_logprobs` (log 0 is not a JSON number).
 */
export function toLogprob(sample: SampledToken, top: number, texts: TokenTexts): Logprob {
  // A sampled token always had a probability above 0; the floor only keeps the number finite.
  const probability = sample.confidence ?? sample.probabilities?.get(sample.token) ?? 0;
  const entry: Logprob = { ...texts.describe(sample.token, sample.previous), logprob: Math.log(Math.max(probability, Number.MIN_VALUE)) };
  if (top > 0 && sample.probabilities) {
    const alternatives: NonNullable<Logprob["top_logprobs"]> = [];
    for (const [token, p] of sample.probabilities) {
      if (alternatives.length >= top || p <= 0) break;
      alternatives.push({ ...texts.describe(token, sample.previous), logprob: Math.log(p) });
    }
    entry.top_logprobs = alternatives;
  }
  return entry;
}

/**
 * A token's text and bytes. The text is detokenized after the token before it, so a
 * SentencePiece word keeps its leading space (" said", not "said"), and special tokens show as
 * written ("</s>"). A token holding only part of a UTF-8 character decodes to U+FFFD; its bytes
 * then come from the vocabulary (`<0xC3>` byte-fallback pieces, or GPT-2 byte-level pieces) so
 * that a client can join them into the character.
 */
export class TokenTexts {
  private readonly vocabulary: readonly string[] | undefined;
  private readonly kind: string | undefined;

  constructor(private readonly model: LlamaModel) {
    const tokenizer = (model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: readonly string[]; model?: string } } }).tokenizer?.ggml;
    this.vocabulary = tokenizer?.tokens;
    this.kind = tokenizer?.model;
  }

  /** EOS and other control tokens: their text ("</s>") is never part of an answer. */
  isControl(token: Token): boolean {
    return this.model.isSpecialToken(token);
  }

  describe(token: Token, previous: Token | undefined): { token: string; bytes: number[] } {
    const text = this.model.detokenize([token], true, previous === undefined ? undefined : [previous]);
    const raw = text.includes("\uFFFD") ? this.rawBytes(token) : undefined;
    return { token: text, bytes: raw ?? [...Buffer.from(text, "utf8")] };
  }

  private rawBytes(token: Token): number[] | undefined {
    const piece = this.vocabulary?.[token];
    if (piece === undefined) return undefined;
    const byteFallback = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
    if (byteFallback) return [parseInt(byteFallback[1]!, 16)];
    if (this.kind === "gpt2") return fromByteLevel(piece);
    return undefined;
  }
}

/** GPT-2's byte-level BPE writes each byte as a printable character; this maps them back. */
function fromByteLevel(piece: string): number[] | undefined {
  const bytes: number[] = [];
  for (const char of piece) {
    const byte = BYTE_OF_CHAR.get(char);
    if (byte === undefined) return undefined;
    bytes.push(byte);
  }
  return bytes;
}

const BYTE_OF_CHAR = (() => {
  const map = new Map<string, number>();
  let shifted = 0;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 33 && byte <= 126) || (byte >= 161 && byte <= 172) || (byte >= 174 && byte <= 255);
    map.set(String.fromCodePoint(printable ? byte : 256 + shifted++), byte);
  }
  return map;
})();
