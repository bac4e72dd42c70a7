import { randomUUID } from "node:crypto";
import { link, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const FOLDER_ID_FILE = ".caravan-folder-id";

/**
 * The models folder's id, kept in `.caravan-folder-id` inside it and created if absent. Workers
 * that see the same id share the folder (a network mount, one host path in several containers),
 * so the gateway sends them one pull, delete or copy between them. The file is written under a
 * temporary name and hard-linked into place, which fails if another worker got there first: two
 * workers starting together still agree on one id. Throws when the folder cannot be written,
 * and — even for root, who could — when its permissions say nobody may write it: a folder the
 * operator made read-only is never written to.
 */
export async function modelsFolderId(dir: string): Promise<string> {
  const path = join(dir, FOLDER_ID_FILE);
  const existing = await readId(path);
  if (existing) return existing;
  await mkdir(dir, { recursive: true });
  if (((await stat(dir)).mode & 0o222) === 0) throw new Error(`${dir} is read-only (no write permission bits): no folder id written`);
  const temp = `${path}.${randomUUID()}`;
  await writeFile(temp, `${randomUUID()}\n`);
  try {
    await link(temp, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A filesystem without hard links: exclusive create, which a racing reader may see empty for a moment.
    if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "ENOSYS") {
      await writeFile(path, `${randomUUID()}\n`, { flag: "wx" }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "EEXIST") throw e;
      });
    } else if (code !== "EEXIST") throw error;
  } finally {
    await rm(temp, { force: true });
  }
  const id = await readId(path);
  if (!id) throw new Error(`${path} is empty`);
  return id;
}

async function readId(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, "utf8")).trim() || undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
