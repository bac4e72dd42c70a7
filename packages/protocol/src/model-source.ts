import { canonicalModelName } from "./model-name.ts";

/**
 * What `/api/pull` and `/api/copy` accept as model sources and names. caravan serves GGUF files
 * from a folder, so a model's name is a file's base name, and every name that reaches the disk
 * passes `modelFileStem` first: no path separators, no `..`, nothing hidden, nothing absolute.
 */

/** A name was refused, or a pull source is not something caravan can fetch. The message says why. */
export class ModelSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelSourceError";
  }
}

/** Where a pull fetches from and what the file will be called. */
export interface PullSource {
  /** http(s) URL of the GGUF file */
  url: string;
  /** the file name in the models folder, e.g. `Qwen3-0.6B-Q8_0.gguf` */
  fileName: string;
  /** the model's canonical name, e.g. `qwen3-0.6b-q8_0:latest` */
  name: string;
}

const STEM = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MAX_STEM = 200;
const GGUF = ".gguf";
const HF_PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The file stem a model name maps to (`My-Model:latest` → `My-Model`). Letters, digits, `.`, `_`
 * and `-`, starting with a letter or digit, at most 200 characters, optionally tagged `:latest`
 * (a file has no other tags). Throws ModelSourceError otherwise.
 */
export function modelFileStem(name: string): string {
  const colon = name.indexOf(":");
  const stem = colon === -1 ? name : name.slice(0, colon);
  if (colon !== -1 && name.slice(colon + 1).toLowerCase() !== "latest") {
    throw new ModelSourceError(`invalid model name '${printable(name)}': the only tag a model file can have is ':latest'`);
  }
  if (!STEM.test(stem) || stem.length > MAX_STEM || stem.includes("..")) {
    throw new ModelSourceError(
      `invalid model name '${printable(name)}': use letters, digits, '.', '_' and '-' (starting with a letter or digit, at most ${MAX_STEM}), optionally followed by ':latest'`,
    );
  }
  return stem;
}

const WHAT_CARAVAN_PULLS = "caravan pulls GGUF files: hf:OWNER/REPO/[PATH/]FILE.gguf[@REVISION] (Hugging Face) or an https:// URL ending in .gguf";

/**
 * Reads a pull source: `hf:OWNER/REPO/PATH/FILE.gguf[@REVISION]` (revision `main` by default) or an
 * `https://…/FILE.gguf` URL; `http://` only with `insecure`. Anything else, an Ollama library name
 * like `llama3` included, throws ModelSourceError saying what caravan can pull.
 */
export function parsePullSource(source: string, insecure = false): PullSource {
  const trimmed = source.trim();
  if (/^hf:/i.test(trimmed)) return parseHuggingFace(trimmed);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return parseUrl(trimmed, insecure);
  throw new ModelSourceError(`cannot pull '${printable(trimmed)}': ${WHAT_CARAVAN_PULLS}`);
}

function parseHuggingFace(source: string): PullSource {
  const body = source.slice("hf:".length);
  const at = body.lastIndexOf("@");
  const path = at === -1 ? body : body.slice(0, at);
  const revision = at === -1 ? "main" : body.slice(at + 1);
  const parts = path.split("/");
  if (parts.length < 3 || !parts.every((part) => HF_PART.test(part) && part !== "..")) {
    throw new ModelSourceError(`cannot pull '${printable(source)}': expected hf:OWNER/REPO/[PATH/]FILE.gguf[@REVISION]`);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(revision) || revision.split("/").includes("..")) {
    throw new ModelSourceError(`cannot pull '${printable(source)}': invalid revision '${printable(revision)}'`);
  }
  const fileName = parts.at(-1)!;
  const name = nameOfFile(fileName, source);
  const [owner, repo, ...rest] = parts;
  const url = `https://huggingface.co/${owner}/${repo}/resolve/${encodeURIComponent(revision)}/${rest.map(encodeURIComponent).join("/")}`;
  return { url, fileName, name };
}

function parseUrl(source: string, insecure: boolean): PullSource {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new ModelSourceError(`cannot pull '${printable(source)}': not a valid URL`);
  }
  if (url.protocol === "http:" && !insecure) {
    throw new ModelSourceError(`cannot pull '${printable(source)}': http:// is not encrypted; use https:// or pass insecure: true`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ModelSourceError(`cannot pull '${printable(source)}': ${WHAT_CARAVAN_PULLS}`);
  }
  let fileName: string;
  try {
    fileName = decodeURIComponent(url.pathname.split("/").at(-1) ?? "");
  } catch {
    throw new ModelSourceError(`cannot pull '${printable(source)}': the file name in the URL is not valid percent-encoding`);
  }
  return { url: url.href, fileName, name: nameOfFile(fileName, source) };
}

/** `FILE.gguf` → `file:latest`, refusing file names that could not live in the models folder. */
function nameOfFile(fileName: string, source: string): string {
  if (!fileName.toLowerCase().endsWith(GGUF) || fileName.length === GGUF.length) {
    throw new ModelSourceError(`cannot pull '${printable(source)}': the file must be a .gguf (${WHAT_CARAVAN_PULLS})`);
  }
  try {
    return canonicalModelName(modelFileStem(fileName.slice(0, -GGUF.length)));
  } catch (error) {
    throw new ModelSourceError(`cannot pull '${printable(source)}': the file name '${printable(fileName)}' cannot be a model name (${(error as Error).message})`);
  }
}

/** Control characters (NUL included) shown escaped, so an error message stays one readable line. */
function printable(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}
