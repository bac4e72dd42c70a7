import type { LlamaContextSequence, Token } from "node-llama-cpp";

/** The longest a sequence waits for the others, whatever a round takes (a slow model's step). */
const MAX_WAIT_MS = 50;
/** The least it waits: a round of a tiny model on a CPU takes about 1 ms. */
const MIN_WAIT_MS = 1;

/**
 * Keeps the generating sequences of one context in step, so that llama.cpp computes all their
 * next tokens in one decode.
 *
 * node-llama-cpp decodes whichever sequences have queued their next token when a decode starts,
 * and starts the next decode as soon as one ends if anything is queued. A sequence queues its
 * next token only after sampling the last one, so sequences that started apart stay apart: while
 * one group decodes, the other samples and queues, and the context alternates between partial
 * batches for as long as they run. On stories260K, 4 generations of 256 tokens started 1 ms apart
 * (as requests arriving one after another do) took 640 to 1,020 decodes for their 1,024 tokens;
 * started in one tick, 340; through this barrier, ~256. On a GPU a decode costs about the same for
 * one sequence as for several, so tokens per decode is throughput.
 *
 * Each sequence arrives here before it asks for its next decode. The barrier lets the arrived go
 * together once every generating sequence has arrived, or when the first has waited twice as
 * long as a round (release → first arrival: one decode and its sampling) has been taking lately.
 * A sequence that missed a round thus catches the next one instead of decoding alone, and one that
 * is busy elsewhere (a long prompt, its request's work between tokens) holds the rest for at most
 * that long. A sequence alone never waits.
 *
 * A sequence counts as generating from its first arrival (not from when its request took the
 * slot: a request may spend a while before its first decode, compiling a grammar say) until the
 * engine says its request's generation ended (leave). Not until its evaluation closes: LlamaChat
 * keeps a finished generation's evaluation open until the sequence's next generation.
 */
export class StepBarrier {
  /** the sequences generating now: each from its first arrival until its request's generation ends */
  private readonly members = new Set<object>();
  private waiting: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private releasedAt: number | undefined;
  private roundMs = MIN_WAIT_MS;
  /** rounds released, and the sequences released in them: their ratio is the mean batch */
  rounds = 0;
  stepped = 0;

  /** `sequence`'s generation ended: those waiting for it go now if it was the last missing. */
  leave(sequence: object): void {
    if (!this.members.delete(sequence)) return;
    if (this.waiting.length > 0 && this.waiting.length >= this.members.size) this.release();
  }

  /** Resolves when `sequence` may queue its next decode; undefined when it may at once. */
  arrive(sequence: object): Promise<void> | undefined {
    const now = performance.now();
    this.members.add(sequence);
    if (this.waiting.length === 0 && this.releasedAt !== undefined) {
      // the first arrival after a release: how long the released round's decode and sampling took
      this.roundMs += (now - this.releasedAt - this.roundMs) / 8;
      this.releasedAt = undefined;
    }
    if (this.members.size <= 1) {
      this.count(1, now);
      return undefined;
    }
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (this.waiting.length >= this.members.size) this.release();
      else this.timer ??= setTimeout(() => this.release(), Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, 2 * this.roundMs)));
    });
  }

  private release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const waiting = this.waiting;
    this.waiting = [];
    this.count(waiting.length, performance.now());
    for (const resolve of waiting) resolve();
  }

  private count(sequences: number, now: number): void {
    this.rounds++;
    this.stepped += sequences;
    this.releasedAt = now;
  }
}

type Input = void | Token | Token[];

/**
 * Makes every evaluation on `sequence` take its decodes in step with the other sequences of
 * `barrier`, passing everything else through unchanged. Wraps only our own sequence instance's
 * `evaluateWithMetadata`: node-llama-cpp's plain `evaluate` runs through it (engine-steps.test
 * fails if that ever stops being so), and wrapping both would make each token arrive twice.
 */
export function keepInStep(sequence: LlamaContextSequence, barrier: StepBarrier): void {
  const evaluateWithMetadata = sequence.evaluateWithMetadata.bind(sequence);
  sequence.evaluateWithMetadata = ((tokens, metadata, options) => inStep(evaluateWithMetadata(tokens, metadata, options), barrier, sequence)) as typeof evaluateWithMetadata;
}

async function* inStep<T>(inner: AsyncGenerator<T, void, Input>, barrier: StepBarrier, sequence: object): AsyncGenerator<T, void, Input> {
  let input: Input = undefined;
  try {
    while (true) {
      const turn = barrier.arrive(sequence);
      if (turn) await turn;
      const result = await inner.next(input);
      if (result.done) return;
      input = yield result.value;
    }
  } finally {
    // Usually the engine has said so already; this keeps a sequence whose request never did
    // (were an evaluation to run outside a request) from holding the others for good.
    barrier.leave(sequence);
    await inner.return();
  }
}
