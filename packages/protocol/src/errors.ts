import type { z } from "zod";

/** An issue's path as a client would write it: `messages[0].role`, `options.temperature`. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), "");
}

/**
 * One line naming the first problem in a failed parse, e.g. `messages[0].role: unknown role "x"`.
 * A message that already starts with its field's path (`model is required`, Ollama's own wording)
 * is returned as it is, so the client sees exactly what Ollama would send.
 */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid request";
  const path = formatIssuePath(issue.path);
  if (!path || issue.message.startsWith(`${path} `)) return issue.message;
  return `${path}: ${issue.message}`;
}
