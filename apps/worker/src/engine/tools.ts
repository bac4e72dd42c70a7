import { randomInt } from "node:crypto";
import type { Tool, ToolCall, ToolChoice } from "@caravan/protocol";
import type { ChatModelFunctions, GbnfJsonSchema } from "node-llama-cpp";
import { EngineRequestError } from "./errors.ts";
import { toGrammarSchema } from "./grammar-schema.ts";

/** How a request's tools reach LlamaChat. */
export interface ToolPlan {
  /** passed to generateResponse: the model may call these (undefined: no function calling) */
  functions: ChatModelFunctions | undefined;
  /** start the answer with a call (tool_choice "required" or a named tool) */
  force: boolean;
  /** shown in the prompt only, never callable: `format` owns the output */
  shown: ChatModelFunctions | undefined;
}

/**
 * The request's tools as node-llama-cpp functions (name → description and JSON schema).
 *
 * - tool_choice "none": no tools at all (neither offered nor shown).
 * - "auto" or absent: offered; the model decides whether to call one.
 * - "required": offered and forced; `{function:{name}}`: only that tool, forced.
 * - With `format`: node-llama-cpp cannot combine a grammar with functions. The format wins, as it
 *   does in Ollama (whose grammar then leaves no room for a call): the tools are shown in the
 *   prompt but cannot be called. Forcing a call and a format at once is contradictory: 400.
 */
export function planTools(tools: readonly Tool[] | undefined, choice: ToolChoice | undefined, hasFormat: boolean): ToolPlan {
  const none: ToolPlan = { functions: undefined, force: false, shown: undefined };
  if (!tools || tools.length === 0 || choice === "none") {
    if (choice !== undefined && choice !== "none" && choice !== "auto") throw new EngineRequestError("tool_choice asks for a tool call but the request has no tools");
    return none;
  }
  let offered = tools;
  if (typeof choice === "object") {
    offered = tools.filter((tool) => tool.function.name === choice.function.name);
    if (offered.length === 0) throw new EngineRequestError(`tool_choice names tool "${choice.function.name}", which is not in tools`);
  }
  const functions = toFunctions(offered);
  const force = choice === "required" || typeof choice === "object";
  if (hasFormat) {
    if (force) throw new EngineRequestError("format cannot be combined with a forced tool call (tool_choice): a tool call does not follow the format");
    return { functions: undefined, force: false, shown: functions };
  }
  return { functions, force, shown: undefined };
}

function toFunctions(tools: readonly Tool[]): ChatModelFunctions {
  const functions: Record<string, { description?: string; params?: GbnfJsonSchema }> = {};
  for (const tool of tools) {
    const { function: fn } = tool;
    // node-llama-cpp's name grammar ends a name at a newline and rejects blanks in names.
    if (fn.name === "" || /\s/.test(fn.name)) throw new EngineRequestError(`tool name ${JSON.stringify(fn.name)} must be non-empty and contain no whitespace`);
    const params = toolParameters(tool);
    functions[fn.name] = { ...(fn.description !== undefined && { description: fn.description }), ...(params !== undefined && { params }) };
  }
  return functions;
}

/**
 * A tool's parameters as node-llama-cpp gets them: the schema its grammar for the call's
 * arguments is compiled from (see grammar-schema.ts), or undefined for a tool without arguments.
 */
export function toolParameters({ function: fn }: Tool): GbnfJsonSchema | undefined {
  if (!hasArguments(fn.parameters, fn.name)) return undefined;
  return toGrammarSchema({ ...fn.parameters, type: "object" }) as GbnfJsonSchema;
}

/** Whether a tool takes arguments; its schema must describe an object (Ollama's arguments are one). */
function hasArguments(parameters: Record<string, unknown> | undefined, name: string): boolean {
  if (parameters === undefined) return false;
  if (parameters.type !== undefined && parameters.type !== "object") throw new EngineRequestError(`tool "${name}": parameters must be an object schema, got type ${JSON.stringify(parameters.type)}`);
  const properties = parameters.properties;
  return typeof properties === "object" && properties !== null && Object.keys(properties).length > 0;
}

/** A call node-llama-cpp parsed, as Ollama reports it (an id like Ollama's, arguments an object). */
export function toToolCall(call: { functionName: string; params: unknown }, index: number): ToolCall {
  const args = typeof call.params === "object" && call.params !== null && !Array.isArray(call.params) ? (call.params as Record<string, unknown>) : {};
  return { id: toolCallId(), function: { index, name: call.functionName, arguments: args } };
}

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** `call_` + 8 random lowercase alphanumerics, as Ollama writes them. */
export function toolCallId(): string {
  let id = "call_";
  for (let i = 0; i < 8; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}
