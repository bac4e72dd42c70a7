import type { z } from "zod";

/** One line naming the first problem in a failed parse, e.g. `messages[0].role: unknown role "x"`. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid request";
  const path = issue.path.reduce<string>((acc, key) => (typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), "");
  return path ? `${path}: ${issue.message}` : issue.message;
}
