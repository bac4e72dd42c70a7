import type { LlamaContextSequence, SequenceEvaluateMetadataOptions, Token } from "node-llama-cpp";

/** One sampled token, with the metadata the request asked for. */
export interface SampledToken {
  token: Token;
  /** the token before it in the sequence (context for detokenizing it with its leading space) */
  previous: Token | undefined;
  /** probability of `token`, when asked for */
  confidence?: number;
  /** the distribution it was sampled from, highest first, when asked for */
  probabilities?: Map<Token, number>;
}

export interface TokenProbeTarget {
  /** what the current request wants with each token; undefined = nothing (plain evaluate, no cost) */
  metadata(): SequenceEvaluateMetadataOptions | undefined;
  onToken(sample: SampledToken): void;
}

/**
 * Calls `onToken` each time the sequence samples a token, at the moment it is sampled.
 *
 * LlamaChat exposes tokens only after its stop-trigger detection has released them (later, and
 * not at all for a stop sequence or EOS), so it cannot say when the first token existed or how
 * many were sampled. Every token it generates comes from `sequence.evaluate`, so this wraps that
 * one method of our own sequence instance and passes everything through unchanged. When the
 * request wants probabilities (logprobs), the same evaluation runs through
 * `evaluateWithMetadata` instead, which samples identically and also returns them.
 */
export function probeSampledTokens(sequence: LlamaContextSequence, target: TokenProbeTarget): void {
  const evaluate = sequence.evaluate.bind(sequence);
  const evaluateWithMetadata = sequence.evaluateWithMetadata.bind(sequence);
  sequence.evaluate = (tokens, options) => {
    const metadata = target.metadata();
    if (metadata === undefined) return passThrough(evaluate(tokens, options), tokens.at(-1), (token, previous) => target.onToken({ token, previous }));
    return unwrapMetadata(evaluateWithMetadata(tokens, metadata, options), tokens.at(-1), (sample) => target.onToken(sample));
  };
}

type Input = void | Token | Token[];

async function* passThrough(
  inner: AsyncGenerator<Token, void, Input>,
  previous: Token | undefined,
  onToken: (token: Token, previous: Token | undefined) => void,
): AsyncGenerator<Token, void, Input> {
  let input: Input = undefined;
  try {
    while (true) {
      const result = await inner.next(input);
      if (result.done) return;
      onToken(result.value, previous);
      input = yield result.value;
      previous = lastOf(input) ?? result.value;
    }
  } finally {
    await inner.return();
  }
}

async function* unwrapMetadata(
  inner: AsyncGenerator<{ token: Token; confidence?: number; probabilities?: Map<Token, number> }, void, Input>,
  previous: Token | undefined,
  onToken: (sample: SampledToken) => void,
): AsyncGenerator<Token, void, Input> {
  let input: Input = undefined;
  try {
    while (true) {
      const result = await inner.next(input);
      if (result.done) return;
      const { token, confidence, probabilities } = result.value;
      onToken({ token, previous, confidence, probabilities });
      input = yield token;
      previous = lastOf(input) ?? token;
    }
  } finally {
    await inner.return();
  }
}

function lastOf(input: Input): Token | undefined {
  return Array.isArray(input) ? input.at(-1) : (input ?? undefined);
}
