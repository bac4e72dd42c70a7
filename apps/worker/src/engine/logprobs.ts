import type { Logprob } from "@caravan/protocol";
import type { LlamaModel, SequenceEvaluateMetadataOptions, Token } from "node-llama-cpp";
import type { SampledToken } from "./token-probe.ts";

/** What the sampler must return with each token for `logprobs` / `top_logprobs`. */
export function logprobMetadata(top: number): SequenceEvaluateMetadataOptions {
  // The sampled token's probability is cheap; the whole distribution only when alternatives are wanted.
  return top > 0 ? { probabilities: true, confidence: true } : { confidence: true };
}

/**
 * One generated token as Ollama reports it: its text, the natural log of its probability, its
 * bytes, and (top > 0) the `top` most likely tokens at that step. Every sampled token gets one,
 * in sampling order, so there is one per eval_count: also the EOS token and the tokens of a stop
 * sequence, whose text never reaches the content, and those of a tool call's syntax.
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
