import { copyFile, mkdtemp, rm, symlink, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findModel, ModelFileCache, scanModels, type CatalogEntry } from "./catalog.ts";
import { STORIES_260K, STORIES_260K_CHATML, STORIES_260K_SHA256 } from "./test-models.ts";

describe("scanModels", () => {
  let dir: string;
  let entries: CatalogEntry[];
  const warnings: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "caravan-catalog-"));
    await copyFile(STORIES_260K, join(dir, "Stories260K.gguf"));
    await symlink(STORIES_260K_CHATML, join(dir, "stories260K-chatml.gguf"));
    await writeFile(join(dir, "broken.gguf"), "this is not a model");
    await writeFile(join(dir, "notes.txt"), "ignored: not .gguf");
    await mkdir(join(dir, "folder.gguf"));
    entries = await scanModels(dir, (m) => warnings.push(m), new ModelFileCache());
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("serves each GGUF file under its canonical name", () => {
    expect(entries.map((e) => e.name)).toEqual(["stories260k-chatml:latest", "stories260k:latest"]);
    const stories = entries.find((e) => e.name === "stories260k:latest")!;
    expect(stories.size).toBe(1_185_376);
    expect(stories.listed.name).toBe("stories260k:latest");
    expect(stories.listed.model).toBe("stories260k:latest");
    expect(stories.listed.size).toBe(1_185_376);
    expect(stories.listed.modified_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    expect(stories.contextLength).toBe(2048);
    // 2 × 5 layers × (64 / 8 heads × 4 KV heads) × 2 bytes
    expect(stories.kvBytesPerToken).toBe(640);
  });

  it("digests the file with sha256", () => {
    expect(findModel(entries, "stories260k")!.listed.digest).toBe(STORIES_260K_SHA256);
  });

  it("reads the details from the GGUF header", () => {
    expect(findModel(entries, "stories260k")!.listed.details).toEqual({
      parent_model: "",
      format: "gguf",
      family: "llama",
      families: ["llama"],
      parameter_size: "293K",
      quantization_level: "F32",
    });
  });

  it("detects a chat template", () => {
    expect(findModel(entries, "stories260k-chatml")!.hasChatTemplate).toBe(true);
    expect(findModel(entries, "stories260k")!.hasChatTemplate).toBe(false);
  });

  it("reads each model's capabilities from its header", () => {
    expect(findModel(entries, "stories260k")!.capabilities).toEqual(["completion", "embedding"]);
    expect(findModel(entries, "stories260k-chatml")!.capabilities).toEqual(["completion", "embedding", "tools"]);
  });

  it("follows symlinks for size", () => {
    expect(findModel(entries, "stories260k-chatml")!.size).toBe(1_185_600);
  });

  it("skips a file that is not GGUF, with a warning", () => {
    expect(entries.some((e) => e.path.endsWith("broken.gguf"))).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("broken.gguf");
  });

  it("rescans from the cache without hashing again", async () => {
    const cache = new ModelFileCache();
    const first = await scanModels(dir, undefined, cache);
    const started = performance.now();
    const second = await scanModels(dir, undefined, cache);
    expect(performance.now() - started).toBeLessThan(first.length * 50);
    expect(second.map((e) => e.listed)).toEqual(first.map((e) => e.listed));
  });

  it("returns [] for a folder that does not exist", async () => {
    expect(await scanModels(join(dir, "no-such-folder"))).toEqual([]);
  });
});

describe("findModel", () => {
  const entry = (name: string) => ({ name }) as CatalogEntry;
  const entries = [entry("stories260k:latest"), entry("llama3:8b")];

  it.each([
    ["stories260k", "stories260k:latest"],
    ["Stories260K", "stories260k:latest"],
    ["STORIES260K:Latest", "stories260k:latest"],
    ["llama3:8B", "llama3:8b"],
    ["llama3", undefined],
    ["other", undefined],
  ])("%s → %s", (requested, expected) => {
    expect(findModel(entries, requested)?.name).toBe(expected);
  });
});
