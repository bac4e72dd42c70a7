import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { STORIES_260K } from "../catalog/test-models.ts";
import { copyModelFile, deleteModelFile, DestinationExistsError } from "./files.ts";
import { FOLDER_ID_FILE, modelsFolderId } from "./folder-id.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(os.tmpdir(), "caravan-files-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("modelsFolderId", () => {
  it("creates one id that workers starting together agree on, and keeps it", async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, () => modelsFolderId(dir)));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(await readdir(dir)).toEqual([FOLDER_ID_FILE]);
    expect(await modelsFolderId(dir)).toBe(ids[0]);
  });

  it("creates a missing folder", async () => {
    const id = await modelsFolderId(join(dir, "new"));
    expect((await readFile(join(dir, "new", FOLDER_ID_FILE), "utf8")).trim()).toBe(id);
  });
});

describe("copyModelFile / deleteModelFile", () => {
  it("copies the file behind a symlink under a new name, never over an existing one, without leftovers", async () => {
    await symlink(STORIES_260K, join(dir, "a.gguf"));
    await copyModelFile(join(dir, "a.gguf"), join(dir, "b.gguf"));
    expect((await stat(join(dir, "b.gguf"))).size).toBe((await stat(STORIES_260K)).size);
    await writeFile(join(dir, "c.gguf"), "taken");
    await expect(copyModelFile(join(dir, "a.gguf"), join(dir, "c.gguf"))).rejects.toBeInstanceOf(DestinationExistsError);
    expect(await readFile(join(dir, "c.gguf"), "utf8")).toBe("taken");
    expect((await readdir(dir)).sort()).toEqual(["a.gguf", "b.gguf", "c.gguf"]);

    // Deleting a symlink removes the link, not the model it points to; the copy stands alone.
    await deleteModelFile(join(dir, "a.gguf"));
    await deleteModelFile(join(dir, "a.gguf"));
    expect((await readdir(dir)).sort()).toEqual(["b.gguf", "c.gguf"]);
    expect((await stat(STORIES_260K)).size).toBeGreaterThan(0);
  });
});
