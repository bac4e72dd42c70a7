import {
  ChatWrapper,
  LlamaText,
  resolveChatWrapper,
  SpecialToken,
  SpecialTokensText,
  type ChatWrapperGenerateContextStateOptions,
  type ChatWrapperGeneratedContextState,
  type LlamaModel,
} from "node-llama-cpp";

const ROLE_PREFIX = { system: "system: ", user: "user: ", model: "assistant: " } as const;

/**
 * The prompt layout for a model without a chat template, one message per line:
 *
 *     system: …
 *     user: …
 *     assistant: <completion>
 *
 * Its markup is only letters, ":", spaces and newlines, because some tiny vocabularies
 * (TinyStories-656K) abort the whole process on characters such as "#" — which rules out
 * node-llama-cpp's GeneralChatWrapper ("### Human"). Not a TemplateChatWrapper: in 3.22.1 that
 * one drops the text before {{completion}} when the response is still empty, so the prompt would
 * not end with "assistant: ".
 */
export class PlainChatWrapper extends ChatWrapper {
  readonly wrapperName = "Plain";

  override generateContextState({ chatHistory, availableFunctions, documentFunctionParams }: ChatWrapperGenerateContextStateOptions): ChatWrapperGeneratedContextState {
    const history = this.addAvailableFunctionsSystemMessageToHistory(chatHistory, availableFunctions, { documentParams: documentFunctionParams });
    const lines = history.map((item, index) => {
      const isLast = index === history.length - 1;
      switch (item.type) {
        case "system":
          return LlamaText([new SpecialTokensText(ROLE_PREFIX.system), LlamaText.fromJSON(item.text), new SpecialTokensText("\n")]);
        case "user":
          return LlamaText([new SpecialTokensText(ROLE_PREFIX.user), item.text, new SpecialTokensText("\n")]);
        case "model":
          return LlamaText([
            new SpecialTokensText(ROLE_PREFIX.model),
            this.generateModelResponseText(item.response),
            isLast ? LlamaText([]) : new SpecialTokensText("\n"),
          ]);
      }
    });
    return {
      contextText: LlamaText([new SpecialToken("BOS"), ...lines]),
      stopGenerationTriggers: [
        LlamaText(new SpecialToken("EOS")),
        LlamaText("\nuser:"),
        LlamaText(new SpecialTokensText("\nuser:")),
      ],
    };
  }
}

/**
 * A GGUF with `tokenizer.chat_template` gets node-llama-cpp's resolution (a specialized wrapper
 * when the Jinja template matches one, e.g. ChatML, else a Jinja wrapper). Without a template,
 * PlainChatWrapper: node-llama-cpp would guess from the file name (stories260K → Llama2Chat),
 * which is arbitrary for a model that was never chat-tuned. A sidecar's TEMPLATE replaces the
 * GGUF's and is resolved the same way (what the catalog's capabilities assume).
 */
export function chatWrapperFor(model: LlamaModel, hasChatTemplate: boolean, templateOverride?: string): ChatWrapper {
  if (templateOverride !== undefined) {
    const metadata = { ...model.fileInfo.metadata, tokenizer: { ...model.fileInfo.metadata.tokenizer, chat_template: templateOverride } };
    return resolveChatWrapper({ fileInfo: { ...model.fileInfo, metadata } as typeof model.fileInfo, tokenizer: model.tokenizer, bosString: model.tokens.bosString }) ?? new PlainChatWrapper();
  }
  return hasChatTemplate ? resolveChatWrapper(model) : new PlainChatWrapper();
}
