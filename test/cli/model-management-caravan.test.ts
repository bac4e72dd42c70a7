import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestFileServer, type TestFileServer } from "../../apps/worker/src/models/test-file-server.ts";
import { startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { MODELS_DIR } from "../harness/processes.ts";
import { tempModelsDir } from "../harness/scenario.ts";
import { plain, runCli, TerminalSession } from "./cli-process.ts";

// `caravan pull`, `cp`, `rm`, `list` against a real caravan (`pnpm start`) with its own temporary
// models folder, pulling from a local HTTP server that serves stories260K.gguf.
describe("caravan pull, cp, rm against caravan itself", () => {
  let deployment: Deployment;
  let models: Awaited<ReturnType<typeof tempModelsDir>>;
  let files: TestFileServer;
  const sessions: TerminalSession[] = [];
  beforeAll(async () => {
    models = await tempModelsDir(["seed"]);
    files = await startTestFileServer({ "/fresh.gguf": { source: path.join(MODELS_DIR, "stories260K.gguf") }, "/notes.gguf": { source: Buffer.from("just some text, not a model\n".repeat(100)) } });
    deployment = await startSingleProcess({ CARAVAN_MODELS: models.dir });
  });
  afterAll(async () => {
    sessions.forEach((s) => s.kill());
    await deployment?.stop();
    await files?.close();
    await models?.remove();
  });
  const cli = (...args: string[]) => runCli([...args, "--host", deployment.gatewayUrls[0]!]);
  // (stories260K never stops by itself: a short answer through the API, not `caravan run`)
  const chat = async (model: string) => {
    const response = await fetch(`${deployment.gatewayUrls[0]}/api/chat`, { method: "POST", body: JSON.stringify({ model, messages: [{ role: "user", content: "Hi" }], stream: false, options: { num_predict: 4 } }) });
    return (await response.json()) as Record<string, unknown>;
  };

  it("pull prints progress lines, lands the file, and the model is listed and answers", async () => {
    const pull = await cli("pull", `${files.url}/fresh.gguf`, "--insecure");
    expect(pull.code).toBe(0);
    expect(pull.stderr).toMatch(/^pulling manifest\n/);
    expect(pull.stderr).toMatch(/: 100% \(1\.2 MB\/1\.2 MB\)\n/);
    expect(pull.stderr).toMatch(/success\n$/);
    expect((await readdir(models.dir)).sort()).toContain("fresh.gguf");
    await expect.poll(async () => (await cli("list")).stdout, { timeout: 10_000 }).toMatch(/^fresh:latest +270cba1bd510 +1\.2 MB /m);
    expect(await chat("fresh")).toMatchObject({ done: true, eval_count: 4 });
  });

  it("pull draws the bar on a terminal", async () => {
    files.pace(100_000, 60);
    try {
      const session = new TerminalSession(["pull", `${files.url}/fresh.gguf`, "--insecure", "--host", deployment.gatewayUrls[0]!]);
      sessions.push(session);
      expect(await session.exited).toBe(0);
      expect(plain(session.text)).toMatch(/success/);
    } finally {
      files.pace(0, 0);
    }
  });

  it("pull of a file that is not a GGUF fails with the reason, exit 1, and leaves nothing behind", async () => {
    const before = (await readdir(models.dir)).sort();
    const pull = await cli("pull", `${files.url}/notes.gguf`, "--insecure");
    expect(pull.code).toBe(1);
    expect(pull.stderr).toMatch(/Error: .*not a GGUF file/);
    expect((await readdir(models.dir)).sort()).toEqual(before);
  });

  it("pull of an Ollama library name explains what caravan pulls", async () => {
    const pull = await cli("pull", "llama3");
    expect(pull.code).toBe(1);
    expect(pull.stderr).toMatch(/Error: .*hf:/);
  });

  it("cp copies (the copy answers); rm deletes; unknown models are Error: …, exit 1", async () => {
    expect(await cli("cp", "fresh", "fresh-copy")).toEqual({ code: 0, stdout: "copied 'fresh' to 'fresh-copy'\n", stderr: "" });
    await expect.poll(async () => (await cli("list")).stdout, { timeout: 10_000 }).toMatch(/^fresh-copy:latest /m);
    expect(await chat("fresh-copy")).toMatchObject({ done: true, eval_count: 4 });
    expect(await cli("cp", "nothing", "x")).toEqual({ code: 1, stdout: "", stderr: "Error: model 'nothing' not found\n" });
    expect((await cli("cp", "fresh", "../escape")).code).toBe(1);

    expect(await cli("rm", "fresh-copy")).toEqual({ code: 0, stdout: "deleted 'fresh-copy'\n", stderr: "" });
    expect(await readdir(models.dir)).not.toContain("fresh-copy.gguf");
    expect(await cli("rm", "fresh-copy")).toEqual({ code: 1, stdout: "", stderr: "Error: model 'fresh-copy' not found\n" });
  });
});
