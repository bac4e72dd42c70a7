import { readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { readGgufFileInfo } from "node-llama-cpp";
import { STORIES_260K, STORIES_260K_CHATML } from "../catalog/test-models.ts";
import { copyGgufWithChatTemplate } from "./test-gguf.ts";

describe("copyGgufWithChatTemplate", () => {
  it("rebuilds stories260K-chatml.gguf byte for byte from stories260K.gguf and its template", async () => {
    const template = ((await readGgufFileInfo(STORIES_260K_CHATML)).metadata as { tokenizer: { chat_template: string } }).tokenizer.chat_template;
    const path = await copyGgufWithChatTemplate(STORIES_260K, template);
    try {
      expect((await readFile(path)).equals(await readFile(STORIES_260K_CHATML))).toBe(true);
    } finally {
      await rm(dirname(path), { recursive: true, force: true });
    }
  });

  it("replaces a template that is there", async () => {
    const path = await copyGgufWithChatTemplate(STORIES_260K_CHATML, "{{ messages }}");
    try {
      const info = await readGgufFileInfo(path);
      expect((info.metadata as { tokenizer: { chat_template: string } }).tokenizer.chat_template).toBe("{{ messages }}");
      expect(info.tensorInfo?.length).toBe((await readGgufFileInfo(STORIES_260K_CHATML)).tensorInfo?.length);
    } finally {
      await rm(dirname(path), { recursive: true, force: true });
    }
  });
});
