import { randomUUID } from "node:crypto";
import { constants } from "node:fs";
import { copyFile, link, lstat, mkdir, readdir, realpath, rename, rm, rmdir, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PARTIAL_DIR } from "./pull.ts";

export class DestinationExistsError extends Error {
  constructor(readonly path: string) {
    super(`${path} already exists`);
    this.name = "DestinationExistsError";
  }
}

/** Removes a model file (a symlink is removed, not what it points to). Gone already is fine. */
export async function deleteModelFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

/**
 * Gives a model file a second name in its folder: a hard link where the filesystem allows it
 * (no bytes copied), else a copy. It is made under a temporary name in `.caravan-partial` and
 * linked into place, which fails rather than overwrite: the catalog never sees half a file and an
 * existing `target` is never replaced (DestinationExistsError).
 */
export async function copyModelFile(source: string, target: string): Promise<void> {
  const tempDir = join(dirname(target), PARTIAL_DIR);
  await mkdir(tempDir, { recursive: true });
  const temp = join(tempDir, `copy-${randomUUID()}.gguf.partial`);
  try {
    // The file itself, not a symlink to it: the copy must outlive the source's name.
    const real = await realpath(source);
    try {
      await link(real, temp);
    } catch {
      await copyFile(real, temp, constants.COPYFILE_EXCL);
    }
    try {
      await link(temp, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") throw new DestinationExistsError(target);
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw error;
      // No hard links here: rename is atomic but would replace, so look first.
      if (await lstat(target).then(() => true, () => false)) throw new DestinationExistsError(target);
      await rename(temp, target);
    }
  } finally {
    await rm(temp, { force: true });
    if ((await readdir(tempDir).catch(() => ["?"])).length === 0) await rmdir(tempDir).catch(() => undefined);
  }
}
