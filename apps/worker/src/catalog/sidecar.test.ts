import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSidecar, readSidecar } from "./sidecar.ts";

describe("parseSidecar (Modelfile syntax)", () => {
  it("reads parameters, system, template, messages and license", () => {
    const sidecar = parseSidecar(
      [
        "# defaults for the story model",
        "FROM ./stories260K.gguf",
        "PARAMETER temperature 0.2",
        "parameter num_ctx 512",
        'PARAMETER stop "The end"',
        "PARAMETER stop <|end|>",
        "PARAMETER use_mmap false",
        'SYSTEM """You tell short stories.',
        'Always happy ones."""',
        'TEMPLATE "{{ messages }}"',
        "MESSAGE user Tell me about a cat.",
        'MESSAGE assistant "A cat sat on a mat."',
        "LICENSE MIT",
      ].join("\n"),
    );
    expect(sidecar.problems).toEqual([]);
    expect(sidecar.parameters).toEqual({ temperature: 0.2, num_ctx: 512, stop: ["The end", "<|end|>"], use_mmap: false });
    expect(sidecar.system).toBe("You tell short stories.\nAlways happy ones.");
    expect(sidecar.template).toBe("{{ messages }}");
    expect(sidecar.messages).toEqual([
      { role: "user", content: "Tell me about a cat." },
      { role: "assistant", content: "A cat sat on a mat." },
    ]);
    expect(sidecar.license).toBe("MIT");
    expect(sidecar.parametersText.split("\n")).toEqual([
      expect.stringMatching(/^temperature +0\.2$/),
      expect.stringMatching(/^num_ctx +512$/),
      expect.stringMatching(/^stop +"The end"$/),
      expect.stringMatching(/^stop +"<\|end\|>"$/),
      expect.stringMatching(/^use_mmap +false$/),
    ]);
  });

  it("keeps a multi-line template whose quotes open and close on their own lines", () => {
    const sidecar = parseSidecar('TEMPLATE """\n{% for m in messages %}{{ m.content }}\n{% endfor %}\n"""');
    expect(sidecar.template).toBe("{% for m in messages %}{{ m.content }}\n{% endfor %}");
  });

  it("reports what it cannot honour and keeps the rest", () => {
    const sidecar = parseSidecar(["ADAPTER ./lora.gguf", "PARAMETER mirostat_eta 0.1", "PARAMETER temperature hot", "PARAMETER seed", "MESSAGE robot hi", "SYSTEM ok"].join("\n"));
    expect(sidecar.problems).toEqual([
      "line 1: ADAPTER is not supported by caravan; skipped",
      "line 2: unknown parameter mirostat_eta",
      "line 4: PARAMETER needs a name and a value",
      "line 5: MESSAGE needs a role (system, user or assistant) and a text",
      "PARAMETER: temperature must be a number",
    ]);
    expect(sidecar.parameters).toEqual({});
    expect(sidecar.system).toBe("ok");
  });

  it("reports an unclosed triple quote", () => {
    expect(parseSidecar('SYSTEM """never closed\nmore').problems).toEqual(['line 1: """ is never closed']);
  });
});

describe("readSidecar", () => {
  it("reads a file, and is undefined when there is none", async () => {
    const dir = await mkdtemp(join(tmpdir(), "caravan-sidecar-"));
    try {
      await writeFile(join(dir, "m.modelfile"), "PARAMETER top_k 7\n");
      expect((await readSidecar(join(dir, "m.modelfile")))?.parameters).toEqual({ top_k: 7 });
      expect(await readSidecar(join(dir, "none.modelfile"))).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
