import { describe, expect, it } from "vitest";
import { toGrammarSchema } from "./grammar-schema.ts";

describe("toGrammarSchema", () => {
  it("drops string formats the grammar does not know, at any depth, and keeps date, time and date-time", () => {
    const schema = {
      type: "object",
      properties: {
        email: { type: "string", format: "email", description: "where to write" },
        day: { type: "string", format: "date" },
        list: { type: "array", items: { type: "string", format: "uri" } },
        pair: { type: "array", prefixItems: [{ type: "string", format: "uuid" }, { type: "string", format: "time" }] },
        extra: { type: "object", additionalProperties: { type: "string", format: "hostname" } },
      },
      $defs: { Stamp: { type: "string", format: "date-time" }, Host: { type: "string", format: "ipv4" } },
    };
    expect(toGrammarSchema(schema)).toEqual({
      type: "object",
      properties: {
        email: { type: "string", description: "where to write" },
        day: { type: "string", format: "date" },
        list: { type: "array", items: { type: "string" } },
        pair: { type: "array", prefixItems: [{ type: "string" }, { type: "string", format: "time" }] },
        extra: { type: "object", additionalProperties: { type: "string" } },
      },
      $defs: { Stamp: { type: "string", format: "date-time" }, Host: { type: "string" } },
    });
  });

  it("reads anyOf as oneOf (pydantic's Optional and unions), including inside its alternatives", () => {
    const optional = { anyOf: [{ type: "integer" }, { type: "null" }], default: null, title: "Age" };
    expect(toGrammarSchema(optional)).toEqual({ oneOf: [{ type: "integer" }, { type: "null" }], default: null, title: "Age" });
    const nested = { type: "object", properties: { v: { anyOf: [{ type: "string", format: "email" }, { anyOf: [{ type: "boolean" }] }] } } };
    expect(toGrammarSchema(nested)).toEqual({ type: "object", properties: { v: { oneOf: [{ type: "string" }, { oneOf: [{ type: "boolean" }] }] } } });
  });

  it("leaves anyOf alone where the library reads another keyword first", () => {
    for (const schema of [
      { type: "object", properties: {}, anyOf: [{ required: ["a"] }] },
      { oneOf: [{ type: "string" }], anyOf: [{ type: "integer" }] },
      { enum: [1, 2], anyOf: [{ type: "integer" }] },
      { const: 1, anyOf: [{ type: "integer" }] },
      { $ref: "#/$defs/A", anyOf: [{ type: "integer" }] },
    ]) {
      expect(toGrammarSchema(schema)).toEqual(schema);
    }
  });

  it("does not change its input, and passes what is not a schema object through", () => {
    const schema = { type: "object", properties: { e: { type: "string", format: "email" } } };
    const copy = structuredClone(schema);
    toGrammarSchema(schema);
    expect(schema).toEqual(copy);
    expect(toGrammarSchema(true)).toBe(true);
    expect(toGrammarSchema({ type: "object", properties: { a: true } })).toEqual({ type: "object", properties: { a: true } });
  });
});
