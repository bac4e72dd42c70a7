import { badRequest } from "../errors.ts";

/** Fields of a request body that name a model (or a file that becomes one). */
const NAME_FIELDS = ["model", "name", "source", "destination"] as const;

/**
 * Refuses a model name that could point outside the models folder: control characters (NUL
 * included), a `..` path segment, an absolute path (`/x`, `\x`, `C:\x`) or a backslash. Workers
 * only ever match names against the files they scanned (and model management passes names
 * through modelFileStem), so this is a second wall, at the edge, that keeps such names from
 * travelling any further.
 */
export function assertSafeModelNames(raw: Record<string, unknown>): void {
  for (const field of NAME_FIELDS) {
    const value = raw[field];
    if (typeof value === "string" && !isSafeModelName(value)) throw badRequest(`invalid ${field} ${JSON.stringify(value.slice(0, 200))}: model names cannot contain control characters, '..' segments, backslashes or absolute paths`);
  }
}

export function isSafeModelName(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return false;
  if (name.includes("\\")) return false;
  if (name.startsWith("/") || /^[A-Za-z]:[\\/]/.test(name)) return false;
  // a `..` segment, also as the stem before a tag (`../x:latest`, `..:latest`)
  return !name.split(/[/:]/).some((segment) => segment === ".." );
}
