/** String formats node-llama-cpp 3.22.1 writes a grammar for. */
const GRAMMAR_FORMATS = new Set(["date", "time", "date-time"]);

/**
 * A JSON schema as node-llama-cpp should compile it into a grammar: the same schema, with two
 * keywords rewritten where the library would otherwise produce output the schema rejects.
 *
 * - `format` on a string, other than date, time and date-time: the library's grammar then admits
 *   only `""` (and its own check throws "Unknown format"). Dropped: the field is a plain string.
 * - `anyOf` (what pydantic writes for `Optional[...]` and unions): the library ignores it and
 *   admits only `null`. Read as `oneOf`, which the library compiles into the alternatives (and
 *   checks as "the first that matches", i.e. as anyOf). Only where the schema has no `oneOf`,
 *   `type`, `enum`, `const` or `$ref` of its own, which the library would read first.
 *
 * Everything else passes unchanged; keywords the grammar cannot enforce (minimum, pattern, ...)
 * stay in the schema and are documented in docs/compatibility.md.
 */
export function toGrammarSchema<T>(schema: T): T {
  return rewrite(schema) as T;
}

function rewrite(schema: unknown): unknown {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    switch (key) {
      case "properties":
      case "$defs":
        out[key] = mapValues(value, rewrite);
        break;
      case "items":
      case "additionalProperties":
        out[key] = rewrite(value);
        break;
      case "prefixItems":
      case "oneOf":
      case "anyOf":
        out[key] = Array.isArray(value) ? value.map(rewrite) : value;
        break;
      default:
        out[key] = value;
    }
  }
  if (out.type === "string" && typeof out.format === "string" && !GRAMMAR_FORMATS.has(out.format)) delete out.format;
  if (Array.isArray(out.anyOf) && !["oneOf", "type", "enum", "const", "$ref"].some((key) => key in out)) {
    out.oneOf = out.anyOf;
    delete out.anyOf;
  }
  return out;
}

function mapValues(value: unknown, map: (value: unknown) => unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, map(inner)]));
}
