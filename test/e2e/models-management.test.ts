import { mkdtemp, readdir, rm, stat, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { Ollama, type ProgressResponse } from "ollama";
import { WorkerState } from "@caravan/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestFileServer, type TestFileServer } from "../../apps/worker/src/models/test-file-server.ts";
import { startRedisCluster, startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { MODELS_DIR } from "../harness/processes.ts";
import { pollUntil } from "../harness/scenario.ts";

// Model management through the official `ollama` npm client: pull (from a local HTTP server),
// copy and delete, on one process and on Redis clusters whose workers have their own folders or
// share one.
const STORIES = path.join(MODELS_DIR, "stories260K.gguf");
const SHA256 = "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";
const SIZE = (await stat(STORIES)).size;

let server: TestFileServer;
const folders: string[] = [];
const tempFolder = async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "caravan-pull-e2e-"));
  folders.push(dir);
  return dir;
};

beforeAll(async () => {
  server = await startTestFileServer({
    "/m/stories260K.gguf": { source: STORIES },
    "/text/notamodel.gguf": { source: Buffer.from("hello, I am text\n".repeat(50)) },
  });
});
afterAll(async () => {
  await server?.close();
  await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function pullAll(ollama: Ollama, model: string): Promise<ProgressResponse[]> {
  const lines: ProgressResponse[] = [];
  for await (const line of await ollama.pull({ model, insecure: true, stream: true })) lines.push(line);
  return lines;
}

const byteLines = (lines: ProgressResponse[]) => lines.filter((line) => line.completed !== undefined);
const tagNames = async (ollama: Ollama) => (await ollama.list()).models.map((m) => m.name).sort();
const modelFiles = async (dir: string) => (await readdir(dir)).filter((name) => !name.startsWith("."));

describe("model management on one process", () => {
  let deployment: Deployment;
  let ollama: Ollama;
  let dir: string;
  beforeAll(async () => {
    dir = await tempFolder();
    // A second, different model, to copy onto.
    await symlink(path.join(MODELS_DIR, "TinyStories-656K-Q8_0.gguf"), path.join(dir, "tiny.gguf"));
    deployment = await startSingleProcess({ CARAVAN_MODELS: dir });
    ollama = new Ollama({ host: deployment.gatewayUrls[0]! });
  });
  afterAll(async () => deployment?.stop());

  it("stops the download when the client aborts, keeping the partial file", async () => {
    server.pace(64 * 1024, 100);
    const stream = await ollama.pull({ model: `${server.url}/m/stories260K.gguf`, insecure: true, stream: true });
    await expect(
      (async () => {
        for await (const line of stream) if ((line.completed ?? 0) > 0) stream.abort();
      })(),
    ).rejects.toThrow(/abort/i);
    // The worker's log is where a pull whose client left is reported, with how to resume: the
    // line is the feature here (and the event that the download has stopped).
    const failed = await deployment.workers[0]!.waitForLog((l) => l.msg === "pull failed", 10_000);
    expect(JSON.stringify(failed)).toMatch(/was cancelled after \d+ of 1185376 bytes; pull again to resume/);
    expect((await stat(path.join(dir, ".caravan-partial", "stories260K.gguf.partial"))).size).toBeGreaterThan(0);
    expect(await modelFiles(dir)).toEqual(["tiny.gguf"]);
  });

  it("pulls with the client's progress stream, resuming; the model is listed and answers", async () => {
    server.pace(128 * 1024, 40);
    const lines = await pullAll(ollama, `${server.url}/m/stories260K.gguf`);
    server.pace(0, 0);
    expect(server.requests.at(-1)?.range).toMatch(/^bytes=\d+-$/);
    expect(lines[0]).toEqual({ status: "pulling manifest" });
    const bytes = byteLines(lines);
    expect(bytes[0]!.completed).toBeGreaterThan(0); // resumed where the aborted pull stopped
    expect(bytes.length).toBeGreaterThanOrEqual(2);
    expect(bytes.every((line) => line.status === "pulling stories260K.gguf" && line.total === SIZE)).toBe(true);
    expect(bytes.at(-1)!.completed).toBe(SIZE);
    expect(lines.slice(-2)).toEqual([{ status: "verifying sha256 digest" }, { status: "success" }]);

    const listed = (await ollama.list()).models.find((m) => m.name === "stories260k:latest");
    expect(listed).toMatchObject({ size: SIZE, digest: SHA256 });
    const answer = await ollama.chat({ model: "stories260K", messages: [{ role: "user", content: "Once upon a time" }], options: { temperature: 0, num_predict: 8 } });
    expect(answer.done).toBe(true);
    expect(answer.eval_count).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual(expect.arrayContaining([".caravan-folder-id", "stories260K.gguf", "tiny.gguf"]));
    expect(await readdir(dir)).not.toContain(".caravan-partial");
  });

  it("pulls again without downloading, and with stream:false answers one success", async () => {
    const requests = server.requests.length;
    const lines = await pullAll(ollama, `${server.url}/m/stories260K.gguf`);
    expect(lines.map((line) => line.status)).toEqual(["pulling manifest", `stories260K.gguf is already here with the same size (${SIZE} bytes); not downloading`, "success"]);
    expect(server.requests.length).toBe(requests + 1); // the headers only, to learn the size
    expect(await ollama.pull({ model: `${server.url}/m/stories260K.gguf`, insecure: true })).toEqual({ status: "success" });
  });

  it("refuses what it cannot pull with a 400 that says what it can", async () => {
    await expect(ollama.pull({ model: "llama3" })).rejects.toMatchObject({ status_code: 400, error: expect.stringMatching(/cannot pull 'llama3': caravan pulls GGUF files: hf:OWNER\/REPO/) });
    await expect(ollama.pull({ model: `${server.url}/m/stories260K.gguf` })).rejects.toMatchObject({ status_code: 400, error: expect.stringMatching(/insecure: true/) });
  });

  it("ends the stream with the error of a failed pull and leaves nothing behind", async () => {
    await expect(pullAll(ollama, `${server.url}/missing/model.gguf`)).rejects.toThrow(`HTTP 404 Not Found from ${server.url}/missing/model.gguf`);
    await expect(pullAll(ollama, `${server.url}/text/notamodel.gguf`)).rejects.toThrow(/notamodel\.gguf is not a GGUF file/);
    await expect(ollama.pull({ model: `${server.url}/missing/model.gguf`, insecure: true, stream: false })).rejects.toMatchObject({ status_code: 500 });
    expect((await modelFiles(dir)).sort()).toEqual(["stories260K.gguf", "tiny.gguf"]);
    expect(await readdir(dir)).not.toContain(".caravan-partial");
  });

  it("copies a model and refuses bad or taken destinations and unknown sources", async () => {
    await ollama.copy({ source: "stories260K", destination: "my-Copy" });
    expect(await tagNames(ollama)).toEqual(["my-copy:latest", "stories260k:latest", "tiny:latest"]);
    const copy = (await ollama.list()).models.find((m) => m.name === "my-copy:latest");
    expect(copy?.digest).toBe(SHA256);
    await ollama.copy({ source: "stories260k:latest", destination: "my-copy:latest" }); // the same model: nothing to do
    await expect(ollama.copy({ source: "nope", destination: "x" })).rejects.toMatchObject({ status_code: 404, error: "model 'nope' not found" });
    await expect(ollama.copy({ source: "stories260K", destination: "tiny" })).rejects.toMatchObject({ status_code: 400, error: "destination model 'tiny' already exists" });
    for (const destination of ["../evil", "a/b", "/abs", "x\0y", "..", "x:7b"]) {
      await expect(ollama.copy({ source: "stories260K", destination })).rejects.toMatchObject({ status_code: 400, error: expect.stringMatching(/^invalid (model name|destination)/) }); // the gateway's guard or the worker's name rule
    }
    expect((await modelFiles(dir)).sort()).toEqual(["my-Copy.gguf", "stories260K.gguf", "tiny.gguf"]);
    const answer = await ollama.generate({ model: "my-copy", prompt: "Once", options: { num_predict: 4 } });
    expect(answer.done).toBe(true);
  });

  it("refuses to delete a model while a request runs on it (409)", async () => {
    const stream = await ollama.generate({ model: "stories260K", prompt: "Once upon a time", stream: true, options: { num_ctx: 2048, num_predict: 100_000 } });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next(); // generating now
    const response = await fetch(`${deployment.gatewayUrls[0]}/api/delete`, { method: "DELETE", body: JSON.stringify({ model: "stories260K" }) });
    expect(response.status).toBe(409);
    expect(((await response.json()) as { error: string }).error).toMatch(/^model 'stories260K' is in use \(1 running, 0 waiting\); try again when its requests have finished/);
    stream.abort();
    await iterator.next().catch(() => undefined);
    expect(await modelFiles(dir)).toContain("stories260K.gguf");
  });

  it("deletes a model (unloading it), then answers 404 for it", async () => {
    await pollUntil(async () => (await ollama.ps()).models.filter((m) => m.name === "stories260k:latest" && (m as { busy?: number }).busy === 0).length, (n) => n === 1, 20_000, "the generation to stop");
    const response = await fetch(`${deployment.gatewayUrls[0]}/api/delete`, { method: "DELETE", body: JSON.stringify({ model: "stories260K" }) });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
    await ollama.delete({ model: "my-copy" });
    expect(await tagNames(ollama)).toEqual(["tiny:latest"]);
    expect((await ollama.ps()).models.map((m) => m.name)).not.toContain("stories260k:latest");
    await expect(ollama.delete({ model: "my-copy" })).rejects.toMatchObject({ status_code: 404, error: "model 'my-copy' not found" });
    expect(await modelFiles(dir)).toEqual(["tiny.gguf"]);
    expect((await stat(path.join(MODELS_DIR, "TinyStories-656K-Q8_0.gguf"))).size).toBeGreaterThan(0);
  });
});

describe("pull on a Redis cluster", () => {
  it("pulls onto every worker, each into its own folder, as one summed bar", async () => {
    const dirs = [await tempFolder(), await tempFolder()];
    const cluster = await startRedisCluster({ gateways: 1, workers: 2, workerEnv: (i) => ({ CARAVAN_MODELS: dirs[i]! }) });
    try {
      const ollama = new Ollama({ host: cluster.gatewayUrls[0]! });
      const requestsBefore = server.requests.length;
      const lines = await pullAll(ollama, `${server.url}/m/stories260K.gguf`);
      expect(byteLines(lines).at(-1)).toMatchObject({ total: 2 * SIZE, completed: 2 * SIZE });
      expect(lines.filter((line) => line.status === "verifying sha256 digest")).toHaveLength(1);
      expect(lines.at(-1)).toEqual({ status: "success" });
      for (const dir of dirs) expect(await modelFiles(dir)).toEqual(["stories260K.gguf"]);
      // one download each: the file server saw two
      expect(server.requests.slice(requestsBefore).filter((r) => r.path === "/m/stories260K.gguf")).toHaveLength(2);
      await pollUntil(() => tagNames(ollama), (names) => names.includes("stories260k:latest"), 10_000, "the model in /api/tags");

      // Deleted from both folders.
      await pollUntil(async () => (await fetch(`${cluster.gatewayUrls[0]}/api/delete`, { method: "DELETE", body: JSON.stringify({ model: "stories260k" }) })).status, (s) => s === 200, 10_000, "delete");
      for (const dir of dirs) expect(await modelFiles(dir)).toEqual([]);
    } finally {
      await cluster.stop();
    }
  });

  it("downloads once for workers that share a folder", async () => {
    const dir = await tempFolder();
    const cluster = await startRedisCluster({ gateways: 1, workers: 2, env: { CARAVAN_MODELS: dir } });
    try {
      const ollama = new Ollama({ host: cluster.gatewayUrls[0]! });
      const requestsBefore = server.requests.length;
      const lines = await pullAll(ollama, `${server.url}/m/stories260K.gguf`);
      expect(byteLines(lines).at(-1)).toMatchObject({ total: SIZE, completed: SIZE });
      expect(lines.at(-1)).toEqual({ status: "success" });
      // downloaded once: the file server saw one request for it
      expect(server.requests.slice(requestsBefore).filter((r) => r.path === "/m/stories260K.gguf")).toHaveLength(1);
      expect(await modelFiles(dir)).toEqual(["stories260K.gguf"]);
      // Both advertise the folder's id and, the other one by rescanning the folder, the model.
      const redis = new Redis(cluster.redis.url);
      try {
        const states = await pollUntil(
          async () => (await redis.mget(`test-${process.pid}:worker:worker-1`, `test-${process.pid}:worker:worker-2`)).map((raw) => WorkerState.parse(JSON.parse(raw ?? "null"))),
          (both) => both.every((state) => state.models.some((m) => m.name === "stories260k:latest")),
          10_000,
          "both workers to advertise the model",
        );
        expect(states[0]!.models_folder_id).toMatch(/^[0-9a-f-]{36}$/);
        expect(states[1]!.models_folder_id).toBe(states[0]!.models_folder_id);
      } finally {
        redis.disconnect();
      }
    } finally {
      await cluster.stop();
    }
  });
});
