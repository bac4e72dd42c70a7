import type { LlamaContextSequence, Token } from "node-llama-cpp";

/**
 * Calls `onToken` each time the sequence samples a token, at the moment it is sampled.
 *
 * LlamaChat exposes tokens only after its stop-trigger detection has released them (later, and
 * not at all for a stop sequence or EOS), so it cannot say when the first token existed or how
 * many were sampled. Every token it generates comes from `sequence.evaluate`, so this wraps that
 * one method of our own sequence instance and passes everything through unchanged.
 */
export function probeSampledTokens(sequence: LlamaContextSequence, onToken: () => void): void {
  const evaluate = sequence.evaluate.bind(sequence);
  sequence.evaluate = (tokens, options) => passThrough(evaluate(tokens, options), onToken);
}

async function* passThrough(
  inner: AsyncGenerator<Token, void, void | Token | Token[]>,
  onToken: () => void,
): AsyncGenerator<Token, void, void | Token | Token[]> {
  let input: void | Token | Token[] = undefined;
  try {
    while (true) {
      const result = await inner.next(input);
      if (result.done) return;
      onToken();
      input = yield result.value;
    }
  } finally {
    await inner.return();
  }
}
