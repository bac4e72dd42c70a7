import type { ChatMessage } from "@caravan/protocol";
import type { ChatHistoryItem } from "node-llama-cpp";

/**
 * Ollama messages → node-llama-cpp chat history, the whole conversation every request.
 * A `tool` message is, for now, a user-side turn carrying the tool's result text. A trailing
 * assistant message stays last, so the model continues it (as Ollama does).
 * Images, tool calls and thinking of earlier turns are not rendered.
 */
export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  return messages.map((message): ChatHistoryItem => {
    switch (message.role) {
      case "system":
        return { type: "system", text: message.content };
      case "assistant":
        return { type: "model", response: message.content === "" ? [] : [message.content] };
      case "user":
      case "tool":
        return { type: "user", text: message.content };
    }
  });
}
