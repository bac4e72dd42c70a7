import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, rmdir, stat, statfs, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { modelFileStem, type ProgressResponse } from "@caravan/protocol";
import { readGgufFacts, type GgufFacts } from "../catalog/index.ts";

/** Downloads land here, inside the models folder (same filesystem: the final rename is atomic), out of the catalog's sight. */
export const PARTIAL_DIR = ".caravan-partial";
const GGUF_MAGIC = Buffer.from("GGUF", "latin1");
const PROGRESS_EVERY_MS = 100;
const MAX_REDIRECTS = 10;

/**
 * Why a pull failed. `interrupted` keeps the partial file (a later pull resumes it); every other
 * code removes it.
 */
export type PullErrorCode = "bad_name" | "unreachable" | "http" | "not_gguf" | "digest_mismatch" | "no_space" | "interrupted" | "io";

export class PullError extends Error {
  constructor(
    readonly code: PullErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "PullError";
  }
}

export interface PullFileOptions {
  /** http(s) URL of the GGUF file */
  url: string;
  /** the models folder */
  dir: string;
  /** the name the file gets there, e.g. `stories260K.gguf` */
  fileName: string;
  /** aborting stops the transfer and keeps the partial file */
  signal?: AbortSignal;
  /** Ollama-shaped progress, at most every 100 ms (the first and last byte counts always) */
  onProgress?: (progress: ProgressResponse) => void;
}

export interface PulledFile {
  path: string;
  size: number;
  /** false: a file of the same size was there already, nothing was fetched */
  downloaded: boolean;
  /** sha256 (hex) and header of a downloaded file; absent when nothing was downloaded */
  sha256?: string;
  facts?: GgufFacts;
}

/**
 * Downloads a GGUF file into the models folder: streamed to `.caravan-partial/<file>.partial`,
 * resumed with a Range request when a partial is there, its magic checked in the first 4 bytes, its
 * sha256 checked against the one the server names (Hugging Face's `x-linked-etag`), its header read,
 * then renamed into place, so the catalog never sees half a file.
 */
export async function pullModelFile(options: PullFileOptions): Promise<PulledFile> {
  const { url, dir, fileName, signal } = options;
  if (!fileName.toLowerCase().endsWith(".gguf")) throw new PullError("bad_name", `'${fileName}' is not a .gguf file name`);
  try {
    modelFileStem(fileName.slice(0, -".gguf".length));
  } catch (error) {
    throw new PullError("bad_name", (error as Error).message);
  }
  const target = join(dir, fileName);
  const partialDir = join(dir, PARTIAL_DIR);
  const partial = join(partialDir, `${fileName}.partial`);
  await mkdir(partialDir, { recursive: true });
  const discard = () => removePartial(partial, partialDir);

  let offset = await resumableBytes(partial);
  let source = await request(url, offset, signal, discard);
  const restart = async () => {
    await source.response.body?.cancel().catch(() => undefined);
    await rm(partial, { force: true });
    offset = 0;
    source = await request(url, 0, signal, discard);
  };
  if (offset > 0) {
    const { status } = source.response;
    // 200: the server ignores ranges. 416 or a range we did not ask for: the partial is stale.
    if (status === 200) offset = 0;
    else if (status === 416 || (status === 206 && contentRangeStart(source.response) !== offset)) await restart();
  }
  const { response } = source;
  if (response.status !== 200 && response.status !== 206) {
    await response.body?.cancel().catch(() => undefined);
    await discard();
    throw new PullError("http", `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""} from ${url}`);
  }
  const total = source.linkedSize ?? (response.status === 206 ? contentRangeTotal(response) : intHeader(response.headers.get("content-length")));

  const existing = await stat(target).catch(() => undefined);
  if (existing?.isFile() && total !== undefined && existing.size === total) {
    await response.body?.cancel().catch(() => undefined);
    await discard();
    options.onProgress?.({ status: `${fileName} is already here with the same size (${total} bytes); not downloading` });
    return { path: target, size: existing.size, downloaded: false };
  }
  if (total !== undefined) await ensureSpace(dir, total - offset, discard);

  const expected = source.sha256;
  const digest = expected ? `sha256:${expected}` : fileName;
  const status = `pulling ${expected ? expected.slice(0, 12) : fileName}`;
  const report = throttled((completed: number) => options.onProgress?.({ status, digest, total: total ?? completed, completed }));

  const hash = createHash("sha256");
  if (offset > 0) await pipeline(createReadStream(partial, { end: offset - 1 }), hashSink(hash));
  let completed = offset;
  report(completed, true);
  await mkdir(partialDir, { recursive: true }); // another pull that ended meanwhile may have removed it while empty
  const file = await open(partial, offset > 0 ? "a" : "w");
  try {
    completed = await writeBody(response, file, hash, completed, offset === 0, (n) => {
      completed = n;
      report(n);
    });
  } catch (error) {
    await file.close().catch(() => undefined);
    throw await failure(error, partial, url, signal, discard, completed, total);
  }
  await file.close();
  report(completed, true);
  if (total !== undefined && completed !== total) {
    throw new PullError("interrupted", `the download of ${url} ended after ${completed} of ${total} bytes; pull again to resume`);
  }
  if (completed < GGUF_MAGIC.length) {
    await discard();
    throw new PullError("not_gguf", `${url} is not a GGUF file (${completed} bytes)`);
  }

  options.onProgress?.({ status: "verifying sha256 digest" });
  const sha256 = hash.digest("hex");
  if (expected && sha256 !== expected) {
    await discard();
    throw new PullError("digest_mismatch", `digest mismatch for ${url}: the server names sha256 ${expected}, the file has ${sha256}`);
  }
  let facts: GgufFacts;
  try {
    facts = await readGgufFacts(partial);
  } catch (error) {
    await discard();
    throw new PullError("not_gguf", `${url} is not a readable GGUF model: ${(error as Error).message}`);
  }
  await rename(partial, target);
  await rmdir(partialDir).catch(() => undefined); // only when empty: another download may be running
  return { path: target, size: completed, downloaded: true, sha256, facts };
}

/** Bytes of a partial download worth resuming: it must exist and start with the GGUF magic. */
async function resumableBytes(partial: string): Promise<number> {
  const info = await stat(partial).catch(() => undefined);
  if (!info?.isFile()) return 0;
  if (info.size >= GGUF_MAGIC.length) {
    const file = await open(partial, "r");
    try {
      const head = Buffer.alloc(GGUF_MAGIC.length);
      await file.read(head, 0, head.length, 0);
      if (head.equals(GGUF_MAGIC)) return info.size;
    } finally {
      await file.close();
    }
  }
  await rm(partial, { force: true });
  return 0;
}

interface Source {
  response: Response;
  /** sha256 the server names for the file (hex), if any */
  sha256?: string;
  /** the file's size as Hugging Face names it (`x-linked-size`), if given */
  linkedSize?: number;
}

/**
 * GET with redirects followed by hand: Hugging Face names the LFS file's sha256 and size on its
 * redirect (`x-linked-etag`, `x-linked-size`), not on the CDN's final answer.
 */
async function request(url: string, offset: number, signal: AbortSignal | undefined, discard: () => Promise<void>): Promise<Source> {
  let current = url;
  let sha256: string | undefined;
  let linkedSize: number | undefined;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let response: Response;
    try {
      response = await fetch(current, { headers: offset > 0 ? { Range: `bytes=${offset}-` } : {}, redirect: "manual", signal });
    } catch (error) {
      if (signal?.aborted) throw new PullError("interrupted", `the pull of ${url} was cancelled`);
      await discard();
      throw new PullError("unreachable", `cannot reach ${current}: ${causeOf(error)}`);
    }
    sha256 ??= sha256Header(response.headers.get("x-linked-etag"));
    linkedSize ??= intHeader(response.headers.get("x-linked-size"));
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel().catch(() => undefined);
      current = new URL(location, current).href;
      continue;
    }
    sha256 ??= sha256Header(response.headers.get("etag"));
    return { response, sha256, linkedSize };
  }
  await discard();
  throw new PullError("unreachable", `too many redirects from ${url}`);
}

/** Streams the body into `file`, checking the GGUF magic first when the file starts here. Returns the bytes now in the file. */
async function writeBody(response: Response, file: FileHandle, hash: Hash, completed: number, checkMagic: boolean, progress: (completed: number) => void): Promise<number> {
  if (!response.body) return completed;
  let head = checkMagic ? Buffer.alloc(0) : undefined;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    let bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (head) {
      // The magic may arrive split over chunks; nothing is written until it is whole.
      head = Buffer.concat([head, bytes]);
      if (head.length < GGUF_MAGIC.length) continue;
      if (!head.subarray(0, GGUF_MAGIC.length).equals(GGUF_MAGIC)) throw new PullError("not_gguf", "not a GGUF file");
      bytes = head;
      head = undefined;
    }
    await write(file, bytes);
    hash.update(bytes);
    completed += bytes.length;
    progress(completed);
  }
  if (head && head.length > 0) {
    if (!GGUF_MAGIC.subarray(0, head.length).equals(head)) throw new PullError("not_gguf", "not a GGUF file");
    await write(file, head);
    hash.update(head);
    completed += head.length;
  }
  return completed;
}

/** A failed write to the partial file (the disk's fault, not the network's). */
class WriteFailure extends Error {
  constructor(readonly error: NodeJS.ErrnoException) {
    super(error.message);
  }
}

async function write(file: FileHandle, bytes: Buffer): Promise<void> {
  try {
    await file.write(bytes);
  } catch (error) {
    throw new WriteFailure(error as NodeJS.ErrnoException);
  }
}

/** Turns what went wrong mid-transfer into a PullError, removing the partial unless a later pull can resume it. */
async function failure(error: unknown, partial: string, url: string, signal: AbortSignal | undefined, discard: () => Promise<void>, completed: number, total: number | undefined): Promise<PullError> {
  if (error instanceof PullError) {
    await discard();
    return error.code === "not_gguf" ? new PullError("not_gguf", `${url} is not a GGUF file (its first bytes are not the GGUF magic)`) : error;
  }
  if (error instanceof WriteFailure) {
    await discard();
    if (error.error.code === "ENOSPC" || error.error.code === "EDQUOT") {
      return new PullError("no_space", `no space left on the device for ${partial}; the partial download was removed`);
    }
    return new PullError("io", `cannot write ${partial}: ${error.message}`);
  }
  const of = total === undefined ? "" : ` of ${total}`;
  if (signal?.aborted) return new PullError("interrupted", `the pull of ${url} was cancelled after ${completed}${of} bytes; pull again to resume`);
  return new PullError("interrupted", `the download of ${url} was interrupted after ${completed}${of} bytes (${causeOf(error)}); pull again to resume`);
}

async function ensureSpace(dir: string, bytes: number, discard: () => Promise<void>): Promise<void> {
  const fs = await statfs(dir).catch(() => undefined);
  if (!fs) return;
  const free = fs.bavail * fs.bsize;
  if (free < bytes) {
    await discard();
    throw new PullError("no_space", `not enough disk space in ${dir}: the download needs ${bytes} bytes, ${free} are free`);
  }
}

async function removePartial(partial: string, partialDir: string): Promise<void> {
  await rm(partial, { force: true });
  if ((await readdir(partialDir).catch(() => ["?"])).length === 0) await rmdir(partialDir).catch(() => undefined);
}

/** Calls `report` at most every PROGRESS_EVERY_MS, or at once when forced (the first and last counts). */
function throttled(report: (completed: number) => void): (completed: number, force?: boolean) => void {
  let last = 0;
  return (completed, force = false) => {
    const now = Date.now();
    if (!force && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    report(completed);
  };
}

function hashSink(hash: Hash) {
  return async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) hash.update(chunk);
  };
}

function contentRangeStart(response: Response): number | undefined {
  const match = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
  return match ? Number(match[1]) : undefined;
}

function contentRangeTotal(response: Response): number | undefined {
  const match = /^bytes \d+-\d+\/(\d+)$/.exec(response.headers.get("content-range") ?? "");
  return match ? Number(match[1]) : undefined;
}

function intHeader(value: string | null): number | undefined {
  return value !== null && /^\d+$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

/** A sha256 in an ETag (`"<64 hex>"`, possibly weak); other ETags (md5s, git blob ids, opaque tags) are not digests. */
function sha256Header(value: string | null): string | undefined {
  const tag = value?.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1").toLowerCase();
  return tag && /^[0-9a-f]{64}$/.test(tag) ? tag : undefined;
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause instanceof Error ? `${message}: ${cause.message}` : message;
}
