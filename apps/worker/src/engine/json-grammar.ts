import type { Tool, ToolChoice } from "@caravan/protocol";
import type { GbnfJsonSchema, Llama, LlamaGrammar } from "node-llama-cpp";
import { EngineRequestError } from "./errors.ts";
import { toGrammarSchema } from "./grammar-schema.ts";
import { toolParameters } from "./tools.ts";
import type { GenerateRequest } from "./types.ts";

/** Compiled grammars kept per engine. */
const CACHE_SIZE = 64;

/**
 * The engine's JSON grammars: the one that enforces `format`, and a check that each tool's
 * parameters compile. A schema that cannot be compiled is the client's to fix (a 400, before
 * anything is generated): LlamaChat compiles a tool's grammar only once the model calls it, in
 * the middle of a generation, where the same failure would be a 500. Compiled grammars are kept
 * (a client usually repeats its schemas); a failed compile is not.
 *
 * node-llama-cpp's grammars are corrected by gbnf-fixes.ts, which the engine applies once.
 */
export class JsonGrammars {
  private readonly compiled = new Map<string, Promise<LlamaGrammar>>();

  constructor(private readonly llama: Llama) {}

  /** node-llama-cpp's JSON grammar for "json", one compiled from the schema otherwise; none for "" or absent. */
  forFormat(format: GenerateRequest["format"]): Promise<LlamaGrammar | undefined> {
    if (format === undefined || format === "") return Promise.resolve(undefined);
    if (format === "json") return this.cached("json", () => this.llama.getGrammarFor("json"), "format");
    return this.forSchema(toGrammarSchema(format) as GbnfJsonSchema, "format");
  }

  /** Rejects (EngineRequestError) when the parameters of a tool the model may call cannot be compiled into a grammar. */
  async checkTools(tools: readonly Tool[] | undefined, choice: ToolChoice | undefined): Promise<void> {
    if (choice === "none") return;
    for (const tool of tools ?? []) {
      if (typeof choice === "object" && tool.function.name !== choice.function.name) continue;
      const params = toolParameters(tool);
      if (params !== undefined) await this.forSchema(params, `tool "${tool.function.name}"`);
    }
  }

  private forSchema(schema: GbnfJsonSchema, what: string): Promise<LlamaGrammar> {
    // `never`: the library types the schema generically (to type the parsed answer), which an arbitrary schema cannot satisfy.
    return this.cached(JSON.stringify(schema), () => this.llama.createGrammarForJsonSchema(schema as never), what);
  }

  private cached(key: string, compile: () => Promise<LlamaGrammar>, what: string): Promise<LlamaGrammar> {
    let grammar = this.compiled.get(key);
    if (!grammar) {
      // A promise, so a schema compiles once however many requests ask for it at the same time.
      grammar = Promise.resolve()
        .then(compile)
        .catch((error: unknown) => {
          this.compiled.delete(key);
          throw new EngineRequestError(`${what}: cannot use this JSON schema: ${(error as Error)?.message ?? String(error)}`, { cause: error });
        });
      if (this.compiled.size >= CACHE_SIZE) this.compiled.delete(this.compiled.keys().next().value!);
      this.compiled.set(key, grammar);
    }
    return grammar;
  }
}
