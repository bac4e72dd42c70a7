import { z } from "zod";
import { formatIssuePath } from "../errors.ts";

const NOUN: Record<string, string> = {
  number: "a number",
  int: "an integer",
  string: "a string",
  boolean: "a boolean",
  array: "an array",
  object: "an object",
  record: "an object",
};

/**
 * zod error function for request fields: names the field and what it must be, e.g.
 * `options.temperature must be a number`, instead of zod's "Invalid input: expected number".
 */
export function mustBe(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code !== "invalid_type") return undefined;
  const field = formatIssuePath(issue.path ?? []);
  if (!field) return "request body must be a JSON object"; // the gateway's own wording for this
  if (issue.input === undefined) return `${field} is required`;
  return `${field} must be ${NOUN[issue.expected] ?? issue.expected}`;
}

/** The same, with a fixed description of what the field accepts, for unions and enums. */
export function mustBeOneOf(what: string): (issue: z.core.$ZodRawIssue) => string {
  return (issue) => `${formatIssuePath(issue.path ?? []) || "request body"} must be ${what}`;
}

/**
 * Go's JSON decoder reads `null` as "not set", so Ollama clients may send `"format": null` or
 * `"images": null`; treat it as absent so that the field's default (or nothing) applies.
 */
export function nullAsAbsent<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === null ? undefined : value), schema);
}
