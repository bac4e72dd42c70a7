import type { LlamaEmbeddingContext, LlamaModel } from "node-llama-cpp";
import { EngineRequestError } from "./errors.ts";

export interface EmbedOptions {
  /** cut inputs longer than the context (else an EngineRequestError) */
  truncate: boolean;
  /** L2-normalize each vector (what /api/embed returns) */
  normalize: boolean;
  /** keep only the leading dimensions (then normalized again when `normalize`) */
  dimensions?: number;
}

export interface Embeddings {
  vectors: number[][];
  /** tokens evaluated over all inputs */
  promptEvalCount: number;
  promptEvalNs: number;
}

/**
 * The embedding side of a loaded model: one llama.cpp embedding context, created on first use
 * (most models are only ever used for chat) and disposed with the model (the engine disposes a
 * model only once no request uses it). The context evaluates one input at a time under its own lock.
 */
export class ModelEmbedder {
  private context: Promise<LlamaEmbeddingContext> | undefined;

  constructor(
    private readonly model: LlamaModel,
    private readonly contextSize: number,
    private readonly threads: number,
  ) {}

  async dispose(): Promise<void> {
    const context = this.context;
    this.context = undefined;
    if (context) await (await context.catch(() => undefined))?.dispose();
  }

  async embed(inputs: readonly string[], options: EmbedOptions, signal: AbortSignal): Promise<Embeddings> {
    this.context ??= this.model.createEmbeddingContext({ contextSize: this.contextSize, threads: this.threads });
    const context = await this.context;
    const started = process.hrtime.bigint();
    const vectors: number[][] = [];
    let promptEvalCount = 0;
    for (const [index, input] of inputs.entries()) {
      signal.throwIfAborted();
      let tokens = this.model.tokenize(input);
      // An empty input is embedded as the tokens a model adds to every input (its BOS), as Ollama's
      // runner does; node-llama-cpp would return an empty vector for it.
      if (tokens.length === 0 && this.model.tokens.shouldPrependBosToken && this.model.tokens.bos !== null) tokens = [this.model.tokens.bos];
      // The context adds its own tokens (BOS, EOS for some models) and needs the input shorter than itself.
      const room = this.contextSize - 1 - (context.calculateInputLength(tokens) - tokens.length);
      if (tokens.length > room) {
        if (!options.truncate) {
          throw new EngineRequestError(`input ${index} has ${tokens.length} tokens, more than the context length ${room}; set truncate to cut it`);
        }
        tokens = tokens.slice(0, room);
      }
      if (tokens.length === 0) throw new EngineRequestError(`input ${index} is empty`);
      promptEvalCount += tokens.length;
      const { vector } = await context.getEmbeddingFor(tokens);
      vectors.push(shape([...vector], options, index));
    }
    return { vectors, promptEvalCount, promptEvalNs: Number(process.hrtime.bigint() - started) };
  }
}

/** Cuts to `dimensions` and normalizes, as the request asks. */
export function shape(vector: number[], options: EmbedOptions, index = 0): number[] {
  let out = vector;
  if (options.dimensions !== undefined) {
    if (options.dimensions > vector.length) {
      throw new EngineRequestError(`dimensions ${options.dimensions} is more than the model's ${vector.length} (input ${index})`);
    }
    out = vector.slice(0, options.dimensions);
  }
  if (!options.normalize) return out;
  const norm = Math.sqrt(out.reduce((sum, x) => sum + x * x, 0));
  return norm === 0 ? out : out.map((x) => x / norm);
}
