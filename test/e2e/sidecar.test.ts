import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { tempModelsDir } from "../harness/scenario.ts";

// A model's sidecar (NAME.modelfile beside NAME.gguf, Modelfile syntax) is honoured end to end:
// default parameters, system prompt, example turns and a replacement chat template.
const CHATML = [
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}",
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
].join("");

describe("a model's sidecar file", () => {
  let deployment: Deployment;
  let models: Awaited<ReturnType<typeof tempModelsDir>>;
  let ollama: Ollama;
  beforeAll(async () => {
    models = await tempModelsDir(["teller", "plain"]);
    await writeFile(
      path.join(models.dir, "teller.modelfile"),
      ["# story defaults", "PARAMETER num_predict 7", "PARAMETER temperature 0", 'SYSTEM """You tell stories."""', `TEMPLATE """${CHATML}"""`, "ADAPTER ./nothing.gguf"].join("\n"),
    );
    deployment = await startSingleProcess({ CARAVAN_MODELS: models.dir });
    ollama = new Ollama({ host: deployment.gatewayUrls[0]! });
  });
  afterAll(async () => {
    await deployment?.stop();
    await models?.remove();
  });

  it("/api/show reports its parameters, system prompt and template, and the template's capabilities", async () => {
    const show = await ollama.show({ model: "teller" });
    expect(show.parameters).toMatch(/^num_predict +7\ntemperature +0$/);
    expect((show as unknown as { system: string }).system).toBe("You tell stories.");
    expect(show.template).toBe(CHATML);
    expect(show.modelfile).toContain('SYSTEM """You tell stories."""');
    expect(show.modelfile).toContain("PARAMETER num_predict");
    expect(show.capabilities).toEqual(expect.arrayContaining(["completion", "tools"]));
    const plain = await ollama.show({ model: "plain" });
    expect(plain.parameters).toBe("");
    expect(plain.capabilities).not.toContain("tools");
  });

  it("its parameters are the request's defaults, and the request's own options win", async () => {
    const defaulted = await ollama.chat({ model: "teller", messages: [{ role: "user", content: "Once upon a time" }] });
    expect(defaulted.eval_count).toBe(7);
    const own = await ollama.chat({ model: "teller", messages: [{ role: "user", content: "Once upon a time" }], options: { num_predict: 3 } });
    expect(own.eval_count).toBe(3);
  });

  it("its system prompt and template shape the prompt (more prompt tokens than the same file without them)", async () => {
    const messages = [{ role: "user", content: "Once upon a time" }];
    // another num_ctx reloads both models: nothing is cached, the whole prompt is evaluated
    const teller = await ollama.chat({ model: "teller", messages, options: { num_predict: 1, num_ctx: 768 } });
    const plain = await ollama.chat({ model: "plain", messages, options: { num_predict: 1, num_ctx: 768 } });
    // ChatML markup plus the system turn, spelled out byte by byte in this vocabulary
    expect(teller.prompt_eval_count).toBeGreaterThan(plain.prompt_eval_count + 20);
  });

  it("a problem in it is logged, not fatal", async () => {
    // the warning line is the feature: the log is where a sidecar's problems are reported
    const warning = await deployment.workers[0]!.waitForLog((l) => typeof l.msg === "string" && l.msg.includes("ADAPTER is not supported"), 5000);
    expect(warning.msg).toContain("teller.modelfile");
  });
});
