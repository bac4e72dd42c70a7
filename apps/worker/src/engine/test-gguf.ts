import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { deriveGguf } from "../catalog/derive-gguf.ts";

/**
 * Test support only: a copy of a GGUF file with another `tokenizer.chat_template`, in a new temp
 * folder, so that tests can reach chat-wrapper paths (e.g. thinking) that no tiny model has.
 */
export async function copyGgufWithChatTemplate(sourcePath: string, template: string, fileName = basename(sourcePath)): Promise<string> {
  const target = join(await mkdtemp(join(tmpdir(), "caravan-gguf-")), fileName);
  await deriveGguf(sourcePath, target, { "tokenizer.chat_template": template });
  return target;
}

/**
 * A ChatML template that thinks the way Qwen3-Thinking-2507 and DeepSeek-R1 do: the generation
 * prompt opens `<think>`, and an earlier answer's `reasoning_content` is rendered inside
 * `<think>…</think>`. node-llama-cpp reads a thought segment from it (JinjaTemplateChatWrapper,
 * prefix "<think>\n", openOnResponseStart), so a model with it starts every answer thinking.
 * (QwenChatWrapper itself only takes qwen architectures, not the tiny llama models.)
 */
export const THINKING_CHAT_TEMPLATE = [
  "{%- for message in messages %}",
  "{%- if message.role == 'assistant' %}",
  "{{- '<|im_start|>assistant\\n' }}",
  "{%- if message.reasoning_content is defined and message.reasoning_content %}{{- '<think>\\n' + message.reasoning_content + '\\n</think>\\n\\n' }}{%- endif %}",
  "{{- message.content + '<|im_end|>\\n' }}",
  "{%- else %}",
  "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}",
  "{%- endif %}",
  "{%- endfor %}",
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n<think>\\n' }}{%- endif %}",
].join("\n");
