import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import type { ProgressResponse } from "@caravan/protocol";
import { ModelFileCache, scanModels, sha256File } from "../catalog/index.ts";
import { STORIES_260K, STORIES_260K_SHA256 } from "../catalog/test-models.ts";
import { PARTIAL_DIR, PullError, pullModelFile, type PullFileOptions } from "./pull.ts";
import { SharedDownloads } from "./shared-downloads.ts";
import { startTestFileServer, type TestFileServer } from "./test-file-server.ts";

const SIZE = (await stat(STORIES_260K)).size;
const WRONG_SHA = "0".repeat(64);

let server: TestFileServer;
let dir: string;

beforeAll(async () => {
  server = await startTestFileServer({
    "/m/stories260K.gguf": { source: STORIES_260K },
    "/hf/stories260K.gguf": { source: STORIES_260K, etag: STORIES_260K_SHA256 },
    "/bad-digest/stories260K.gguf": { source: STORIES_260K, etag: WRONG_SHA },
    "/text/x.gguf": { source: Buffer.from("this is a plain text file, not a model\n".repeat(100)) },
  });
});
afterAll(() => server?.close());
beforeEach(async () => {
  dir = await mkdtemp(join(os.tmpdir(), "caravan-pull-"));
  server.requests.length = 0;
  server.pace(0, 0);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function pull(path: string, extra: Partial<PullFileOptions> = {}) {
  const progress: ProgressResponse[] = [];
  const fileName = path.split("/").at(-1)!;
  const done = pullModelFile({ url: `${server.url}${path}`, dir, fileName, onProgress: (p) => progress.push(p), ...extra });
  return { progress, done };
}

async function failure(promise: Promise<unknown>): Promise<PullError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PullError);
  return error as PullError;
}

describe("pullModelFile", () => {
  it("downloads into the folder with progress, and a rescan lists the model", async () => {
    server.pace(64 * 1024, 30); // ~19 chunks, ~0.6 s: several throttled progress lines
    const { progress, done } = pull("/m/stories260K.gguf");
    const pulled = await done;
    expect(pulled).toMatchObject({ path: join(dir, "stories260K.gguf"), size: SIZE, downloaded: true, sha256: STORIES_260K_SHA256 });
    expect(pulled.facts?.details.family).toBe("llama");
    const bytes = progress.filter((p) => p.completed !== undefined);
    expect(bytes.length).toBeGreaterThanOrEqual(3);
    expect(bytes[0]).toEqual({ status: "pulling stories260K.gguf", digest: "stories260K.gguf", total: SIZE, completed: 0 });
    expect(bytes.at(-1)).toMatchObject({ total: SIZE, completed: SIZE });
    expect(bytes.map((p) => p.completed)).toEqual([...bytes.map((p) => p.completed!)].sort((a, b) => a - b));
    expect(progress.at(-1)).toEqual({ status: "verifying sha256 digest" });
    expect(await readdir(dir)).toEqual(["stories260K.gguf"]);
    const catalog = await scanModels(dir, () => {}, new ModelFileCache());
    expect(catalog.map((e) => [e.name, e.listed.digest])).toEqual([["stories260k:latest", STORIES_260K_SHA256]]);
  });

  it("names the digest the server gives (as Hugging Face's ETag) and checks it", async () => {
    const { progress, done } = pull("/hf/stories260K.gguf");
    expect((await done).sha256).toBe(STORIES_260K_SHA256);
    expect(progress[0]).toEqual({ status: `pulling ${STORIES_260K_SHA256.slice(0, 12)}`, digest: `sha256:${STORIES_260K_SHA256}`, total: SIZE, completed: 0 });
  });

  it("refuses a file whose digest differs from the server's, leaving nothing", async () => {
    const error = await failure(pull("/bad-digest/stories260K.gguf").done);
    expect(error.code).toBe("digest_mismatch");
    expect(error.message).toMatch(/digest mismatch.*sha256 0{64}.*270cba1bd510/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("resumes an interrupted download with a Range request", async () => {
    server.cutNextAt(500_000);
    const first = await failure(pull("/m/stories260K.gguf").done);
    expect(first.code).toBe("interrupted");
    expect(first.message).toMatch(/interrupted after 500000 of 1185376 bytes.*pull again to resume/);
    expect((await stat(join(dir, PARTIAL_DIR, "stories260K.gguf.partial"))).size).toBe(500_000);
    expect(await readdir(dir)).toEqual([PARTIAL_DIR]); // nothing where the catalog looks

    const second = pull("/m/stories260K.gguf");
    const pulled = await second.done;
    expect(server.requests.at(-1)).toEqual({ path: "/m/stories260K.gguf", range: "bytes=500000-" });
    expect(second.progress[0]).toMatchObject({ completed: 500_000, total: SIZE });
    expect(pulled.sha256).toBe(STORIES_260K_SHA256);
    expect(await sha256File(join(dir, "stories260K.gguf"))).toBe(STORIES_260K_SHA256);
    expect(await readdir(dir)).toEqual(["stories260K.gguf"]);
  });

  it("keeps the partial when the puller cancels", async () => {
    server.pace(16 * 1024, 20);
    const controller = new AbortController();
    const { progress, done } = pull("/m/stories260K.gguf", {
      signal: controller.signal,
      onProgress: (p) => {
        progress.push(p);
        if ((p.completed ?? 0) > 100_000) controller.abort();
      },
    });
    const error = await failure(done);
    expect(error.code).toBe("interrupted");
    expect(error.message).toMatch(/cancelled after \d+ of 1185376 bytes/);
    expect((await stat(join(dir, PARTIAL_DIR, "stories260K.gguf.partial"))).size).toBeGreaterThan(100_000);
  });

  it("refuses a file that is not GGUF at its first bytes, leaving nothing", async () => {
    const error = await failure(pull("/text/x.gguf").done);
    expect(error.code).toBe("not_gguf");
    expect(error.message).toMatch(/x\.gguf is not a GGUF file/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("turns an HTTP error into a clear error, leaving nothing", async () => {
    const error = await failure(pull("/missing/model.gguf").done);
    expect(error.code).toBe("http");
    expect(error.message).toBe(`HTTP 404 Not Found from ${server.url}/missing/model.gguf`);
    expect(await readdir(dir)).toEqual([]);
  });

  it("reports an unreachable server, leaving nothing", async () => {
    const closed = await startTestFileServer({});
    await closed.close();
    const error = await failure(pullModelFile({ url: `${closed.url}/x.gguf`, dir, fileName: "x.gguf" }));
    expect(error.code).toBe("unreachable");
    expect(error.message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+\/x\.gguf: fetch failed/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("does not download a file that is already there with the same size", async () => {
    await pull("/m/stories260K.gguf").done;
    const again = pull("/m/stories260K.gguf");
    expect(await again.done).toMatchObject({ downloaded: false, size: SIZE });
    expect(again.progress).toEqual([{ status: `stories260K.gguf is already here with the same size (${SIZE} bytes); not downloading` }]);
  });

  it("refuses a file name that could leave the folder", async () => {
    for (const fileName of ["../x.gguf", "a/b.gguf", ".x.gguf", "x.bin"]) {
      expect((await failure(pullModelFile({ url: `${server.url}/m/stories260K.gguf`, dir, fileName }))).code).toBe("bad_name");
    }
    expect(server.requests).toEqual([]);
  });
});

describe("SharedDownloads", () => {
  it("runs two pulls of one file as one download, which a leaving puller does not stop", async () => {
    server.pace(16 * 1024, 10);
    const downloads = new SharedDownloads<Awaited<ReturnType<typeof pullModelFile>>>();
    const url = `${server.url}/m/stories260K.gguf`;
    const start = (signal: AbortSignal, progress: (p: ProgressResponse) => void) => pullModelFile({ url, dir, fileName: "stories260K.gguf", signal, onProgress: progress });
    const seen: ProgressResponse[][] = [[], [], []];
    const leaving = new AbortController();
    const first = downloads.join("stories260k:latest", url, start, { onProgress: (p) => seen[0]!.push(p) });
    const second = downloads.join("stories260k:latest", url, start, { onProgress: (p) => seen[1]!.push(p) });
    const third = downloads.join("stories260k:latest", url, start, {
      signal: leaving.signal,
      onProgress: (p) => {
        seen[2]!.push(p);
        leaving.abort(new Error("client went away"));
      },
    });
    await expect(third).rejects.toThrow("client went away");
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(b);
    expect(a.sha256).toBe(STORIES_260K_SHA256);
    expect(server.requests).toHaveLength(1);
    expect(seen[1]!.at(-1)).toEqual({ status: "verifying sha256 digest" });
    expect(downloads.size).toBe(0);
    await expect(downloads.join("stories260k:latest", url, start)).resolves.toMatchObject({ downloaded: false });
  });

  it("aborts the download when its last puller leaves, and refuses a second source for one file", async () => {
    server.pace(16 * 1024, 20);
    const downloads = new SharedDownloads<Awaited<ReturnType<typeof pullModelFile>>>();
    const url = `${server.url}/m/stories260K.gguf`;
    let aborted = false;
    const start = async (signal: AbortSignal, progress: (p: ProgressResponse) => void) => {
      signal.addEventListener("abort", () => (aborted = true));
      return pullModelFile({ url, dir, fileName: "stories260K.gguf", signal, onProgress: progress });
    };
    const controller = new AbortController();
    const only = downloads.join("stories260k:latest", url, start, { signal: controller.signal });
    await expect(downloads.join("stories260k:latest", "http://elsewhere/x.gguf", start)).rejects.toThrow(/another pull of stories260k:latest/);
    controller.abort();
    await expect(only).rejects.toThrow();
    expect(aborted).toBe(true);
  });
});
