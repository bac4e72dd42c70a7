import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { canonicalModelName, ollamaTimestamp, type Capability, type ListedModel } from "@caravan/protocol";
import { sha256File } from "./digest.ts";
import { withTemplate } from "./capabilities.ts";
import { readGgufFacts, type GgufFacts } from "./gguf-facts.ts";
import { readSidecar, type Sidecar } from "./sidecar.ts";

/** One model file in the models folder. */
export interface CatalogEntry {
  /** canonical name, e.g. "stories260k:latest" */
  name: string;
  /** absolute or caller-relative path of the .gguf file */
  path: string;
  /** bytes */
  size: number;
  modifiedAt: Date;
  /** the model as Ollama's /api/tags lists it */
  listed: ListedModel;
  /** the GGUF carries `tokenizer.chat_template` */
  hasChatTemplate: boolean;
  /** `NAME.modelfile` beside the file: defaults, system prompt, template (see sidecar.ts) */
  sidecar?: Sidecar;
  /** what the model can do, from its header (the gateway checks requests against it) */
  capabilities: Capability[];
  /** context length the model was trained with, from the GGUF header (0 if absent) */
  contextLength: number;
  /** K+V cache bytes per token of context for one sequence, f16 cache (0 if the header lacks the numbers) */
  kvBytesPerToken: number;
  /** transformer blocks (0 if the header lacks them): bounds num_gpu */
  layerCount: number;
}

interface CachedFile extends GgufFacts {
  digest: string;
}

/**
 * Digests and header facts keyed by (path, size, mtime): hashing a multi-GB file takes seconds,
 * so a rescan only hashes files that are new or changed.
 */
export class ModelFileCache {
  private readonly files = new Map<string, CachedFile>();

  key(path: string, size: number, mtimeMs: number): string {
    return `${path}\0${size}\0${mtimeMs}`;
  }

  get(key: string): CachedFile | undefined {
    return this.files.get(key);
  }

  set(key: string, path: string, value: CachedFile): void {
    // One version per path: drop what an older size/mtime of the same file left behind.
    for (const old of this.files.keys()) if (old.startsWith(`${path}\0`)) this.files.delete(old);
    this.files.set(key, value);
  }
}

const defaultCache = new ModelFileCache();

/**
 * Tells the catalog what a file holds so that the next scan need not hash it: a download that
 * hashed it on the way in, a hard link to a known model. Hashing a multi-GB file inside a scan
 * would hold up the heartbeat for longer than the worker's state lives.
 */
export function rememberModelFile(path: string, size: number, mtimeMs: number, facts: GgufFacts, digest: string, cache: ModelFileCache = defaultCache): void {
  cache.set(cache.key(path, size, mtimeMs), path, { ...facts, digest });
}

/**
 * Every `*.gguf` file directly in `dir` is a model, served as the canonical form of its base name
 * (`Stories260K.gguf` → `stories260k:latest`). A missing folder is an empty catalog; a file that
 * is not a readable GGUF is skipped and reported to `warn`. Sorted by name. `cache` keeps digests
 * across scans (one per process by default).
 */
export async function scanModels(
  dir: string,
  warn: (message: string) => void = () => {},
  cache: ModelFileCache = defaultCache,
): Promise<CatalogEntry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }

  const entries: CatalogEntry[] = [];
  const seen = new Set<string>();
  for (const fileName of names.filter((n) => n.toLowerCase().endsWith(".gguf")).sort()) {
    const path = join(dir, fileName);
    const name = canonicalModelName(fileName.slice(0, -".gguf".length));
    if (seen.has(name)) {
      warn(`skipping ${path}: another file is already served as ${name}`);
      continue;
    }
    try {
      const entry = await readEntry(path, name, cache);
      if (!entry) continue; // a directory or other non-file named *.gguf
      warnSidecarProblems(entry, warn);
      seen.add(name);
      entries.push(entry);
    } catch (error) {
      warn(`skipping ${path}: not a readable GGUF model (${(error as Error).message})`);
    }
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function readEntry(path: string, name: string, cache: ModelFileCache): Promise<CatalogEntry | undefined> {
  const info = await stat(path); // follows symlinks: size and mtime are the model's
  if (!info.isFile()) return undefined;
  const key = cache.key(path, info.size, info.mtimeMs);
  let file = cache.get(key);
  if (!file) {
    // Read the header first: a broken file fails here, before it is hashed.
    const facts = await readGgufFacts(path);
    file = { ...facts, digest: await sha256File(path) };
    cache.set(key, path, file);
  }
  const sidecar = await readSidecar(path.replace(/\.gguf$/i, ".modelfile"));
  return {
    name,
    path,
    size: info.size,
    modifiedAt: info.mtime,
    hasChatTemplate: file.hasChatTemplate,
    ...(sidecar && { sidecar }),
    capabilities: sidecar?.template ? withTemplate(file.capabilities, file.details.family, sidecar.template) : file.capabilities,
    contextLength: file.contextLength,
    kvBytesPerToken: file.kvBytesPerToken,
    layerCount: file.layerCount,
    listed: {
      name,
      model: name,
      modified_at: ollamaTimestamp(info.mtimeMs),
      size: info.size,
      digest: file.digest,
      details: file.details,
    },
  };
}

/** Sidecar problems already reported, by file: a rescan (every heartbeat) reports only changes. */
const reportedSidecarProblems = new Map<string, string>();

function warnSidecarProblems(entry: CatalogEntry, warn: (message: string) => void): void {
  if (!entry.sidecar) return;
  const text = entry.sidecar.problems.join("\n");
  if (reportedSidecarProblems.get(entry.sidecar.path) === text) return;
  reportedSidecarProblems.set(entry.sidecar.path, text);
  for (const problem of entry.sidecar.problems) warn(`${entry.sidecar.path}: ${problem}`);
}

/** The entry a client's model name refers to: `Stories260K`, `stories260k:latest` and `STORIES260K:Latest` are one model. */
export function findModel(entries: readonly CatalogEntry[], requestedName: string): CatalogEntry | undefined {
  const wanted = canonicalModelName(requestedName);
  return entries.find((entry) => entry.name === wanted);
}
