import type { ChatModelFunctions, ChatWrapper, ChatWrapperGenerateContextStateOptions, ChatWrapperGeneratedContextState } from "node-llama-cpp";

/** Per-request switches of a slot's chat wrapper; reset after every request. */
export interface ChatWrapperSwitches {
  /**
   * Start the answer in function-call mode (tool_choice "required" or a named tool): LlamaChat
   * then generates the function name under a grammar of the offered names, and the arguments
   * under a grammar of that function's JSON schema.
   */
  forceFunctionCall: boolean;
  /**
   * Functions to show in the prompt although LlamaChat gets none: with `format`, the format's
   * grammar owns the output (node-llama-cpp takes a grammar or functions, not both), but the
   * model still sees the tools as the template would render them.
   */
  shownFunctions: ChatModelFunctions | undefined;
}

export function noSwitches(): ChatWrapperSwitches {
  return { forceFunctionCall: false, shownFunctions: undefined };
}

/**
 * `inner` with the switches applied. Each slot owns one LlamaChat and runs one request at a
 * time, so each slot gets one of these around the model's shared wrapper and sets its switches
 * for the request. A Proxy rather than a subclass: LlamaChat and its helpers read many members
 * of a wrapper (settings, generateFunctionCall, generateModelResponseText, ...) and they all
 * must be the inner wrapper's own, bound to it.
 *
 * Forcing uses node-llama-cpp's `functionCall.initiallyEngaged` (what FunctionaryChatWrapper
 * returns): LlamaChat's initFunctions() then enters "functionName" mode before the first token,
 * with FunctionCallNameGrammar (exactly one of the offered names) and then
 * FunctionCallParamsGrammar (the schema) on the sampler. No disengage triggers: the model cannot
 * talk its way out of the call.
 */
export function withSwitches(inner: ChatWrapper, switches: ChatWrapperSwitches): ChatWrapper {
  const generateContextState = (options: ChatWrapperGenerateContextStateOptions): ChatWrapperGeneratedContextState => {
    const shown = switches.shownFunctions !== undefined && options.availableFunctions === undefined ? { ...options, availableFunctions: switches.shownFunctions } : options;
    const state = inner.generateContextState(shown);
    if (!switches.forceFunctionCall) return state;
    // Prefix triggers (how some wrappers let the model choose between text, thought and a call)
    // and initially engaged function calls are exclusive in node-llama-cpp: a forced call drops them.
    const { contextText, stopGenerationTriggers, ignoreStartText } = state;
    return { contextText, stopGenerationTriggers, ignoreStartText, functionCall: { initiallyEngaged: true, disengageInitiallyEngaged: [] } };
  };
  return new Proxy(inner, {
    get(target, property) {
      if (property === "generateContextState") return generateContextState;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
