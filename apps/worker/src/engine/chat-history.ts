import type { ChatMessage } from "@caravan/protocol";
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from "node-llama-cpp";

/**
 * Ollama messages → node-llama-cpp chat history, the whole conversation every request.
 *
 * An assistant message's `tool_calls` become function calls inside its model response, each with
 * its result taken from the `tool` messages right after it: by `tool_name` when they give one,
 * else in order. The chat wrapper then renders call and result in its own syntax, and the model
 * continues that response after the results. A result that looks like JSON (an object or array)
 * is passed parsed, so it is rendered as written rather than as a quoted string. A `tool`
 * message matching no call stays a user-side turn carrying its text; a call without a result
 * is rendered with none ("void").
 * A trailing assistant message stays last, so the model continues it (as Ollama does).
 * Images and the thinking of earlier turns are not rendered.
 */
export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    switch (message.role) {
      case "system":
        history.push({ type: "system", text: message.content });
        break;
      case "assistant": {
        const response: ChatModelResponse["response"] = message.content === "" ? [] : [message.content];
        const calls = (message.tool_calls ?? []).map(
          (call): ChatModelFunctionCall => ({ type: "functionCall", name: call.function.name, params: call.function.arguments, result: undefined }),
        );
        const unmatched: ChatHistoryItem[] = [];
        const answered = new Set<ChatModelFunctionCall>();
        while (calls.length > 0 && messages[i + 1]?.role === "tool") {
          const result = messages[++i]!;
          const call = calls.find((c) => !answered.has(c) && (result.tool_name === undefined || c.name === result.tool_name));
          if (!call) {
            unmatched.push({ type: "user", text: result.content });
            continue;
          }
          call.result = toolResult(result.content);
          answered.add(call);
        }
        history.push({ type: "model", response: [...response, ...calls] }, ...unmatched);
        break;
      }
      case "user":
      case "tool":
        history.push({ type: "user", text: message.content });
        break;
    }
  }
  return history;
}

function toolResult(content: string): unknown {
  const trimmed = content.trim();
  if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return content;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return content;
  }
}
