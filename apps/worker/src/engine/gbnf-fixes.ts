import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { LlamaJsonSchemaValidationError } from "node-llama-cpp";

/**
 * Two corrections to node-llama-cpp 3.22.1's JSON-schema grammars, made at run time on its own
 * classes, so they hold for `format` grammars and for the tool-call grammars LlamaChat builds
 * inside a generation alike (a patch in node_modules would not survive an install). The package
 * exports neither class: they are loaded from its dist folder by path, the same module instances
 * its own code uses.
 *
 * - GbnfNumber writes the rules for "integer" and "number". Its integer rule takes an exponent of
 *   either sign, so an integer field could read `-1e-3`; its exponents run to 16 digits, so a
 *   number could read `1e999`, which parses to Infinity (no JSON Schema number). Integers get no
 *   exponent, exponents at most two digits; the rest of the rules is as before.
 * - FunctionCallParamsGrammar.parseParams checks a tool call's arguments against the schema after
 *   its grammar made them, and throws where the check disagrees with the grammar (3.22.1 counts a
 *   string's length in UTF-16 units, the grammar and JSON Schema in characters): the request then
 *   failed. The arguments the grammar produced come back as generated instead.
 */
export function fixJsonGrammars(): Promise<void> {
  fixed ??= applyFixes();
  return fixed;
}

let fixed: Promise<void> | undefined;

/** The GBNF of the integer and the number rule after the fix (what the tests check grammars against). */
export const INTEGER_RULE = '"-"? ("0" | [1-9] [0-9]{0,15})';
export const NUMBER_RULE = INTEGER_RULE + ' ("." [0-9]{1,16})? ([eE] [-+]? ("0" | [1-9] [0-9]?))?';

interface GbnfNumberClass {
  prototype: { allowFractional: boolean; getGrammar(): string };
}

interface FunctionCallParamsGrammarClass {
  prototype: { parseParams(callText: string): { params: unknown; raw: string } };
}

/** The library's "\n\n\n\n" that ends a call's arguments (FunctionCallParamsGrammar's stop trigger). */
const PARAMS_END = "\n".repeat(4);

async function applyFixes(): Promise<void> {
  const dist = dirname(createRequire(import.meta.url).resolve("node-llama-cpp"));
  const load = async <T>(path: string, name: string): Promise<T> => {
    const module = (await import(pathToFileURL(join(dist, path)).href)) as Record<string, unknown>;
    const found = module[name] as { prototype?: object } | undefined;
    if (typeof found !== "function") throw new Error(`node-llama-cpp has no ${name} in ${path}: the JSON grammar fixes in gbnf-fixes.ts need review for this version`);
    return found as T;
  };
  const GbnfNumber = await load<GbnfNumberClass>("utils/gbnfJson/terminals/GbnfNumber.js", "GbnfNumber");
  const FunctionCallParamsGrammar = await load<FunctionCallParamsGrammarClass>("evaluator/LlamaChat/utils/FunctionCallParamsGrammar.js", "FunctionCallParamsGrammar");

  GbnfNumber.prototype.getGrammar = function (this: { allowFractional: boolean }) {
    return this.allowFractional ? NUMBER_RULE : INTEGER_RULE;
  };

  const parseParams = FunctionCallParamsGrammar.prototype.parseParams;
  FunctionCallParamsGrammar.prototype.parseParams = function (this: unknown, callText: string) {
    try {
      return parseParams.call(this, callText);
    } catch (error) {
      if (!(error instanceof LlamaJsonSchemaValidationError)) throw error;
      return { params: error.object, raw: callText.slice(0, callText.lastIndexOf(PARAMS_END)) };
    }
  };
}
