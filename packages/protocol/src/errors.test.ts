import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeZodError, formatIssuePath } from "./errors.ts";

/** A ZodError holding exactly these issues. */
const errorOf = (...issues: Array<{ path: PropertyKey[]; message: string }>) =>
  new z.ZodError(issues.map((issue) => ({ code: "custom" as const, input: undefined, ...issue })));

describe("formatIssuePath", () => {
  it.each<[PropertyKey[], string]>([
    [[], ""],
    [["model"], "model"],
    [["options", "temperature"], "options.temperature"],
    [["messages", 0, "role"], "messages[0].role"],
    [["messages", 2, "tool_calls", 10, "function", "arguments"], "messages[2].tool_calls[10].function.arguments"],
    [[0], "[0]"],
    [[0, 1], "[0][1]"],
  ])("%j → %j", (path, text) => {
    expect(formatIssuePath(path)).toBe(text);
  });
});

describe("describeZodError", () => {
  it.each<[string, z.ZodError, string]>([
    ["path, a colon, the message", errorOf({ path: ["messages", 0, "role"], message: 'unknown role "x"' }), 'messages[0].role: unknown role "x"'],
    ["nested objects with dots", errorOf({ path: ["options", "temperature"], message: "too hot" }), "options.temperature: too hot"],
    ["no path: the message alone", errorOf({ path: [], message: "request body must be an object" }), "request body must be an object"],
    ["a message that names its field is not prefixed", errorOf({ path: ["model"], message: "model is required" }), "model is required"],
    ["nor one that names its full path", errorOf({ path: ["options", "seed"], message: "options.seed must be a number" }), "options.seed must be a number"],
    ["a message that merely starts like the field is prefixed", errorOf({ path: ["model"], message: "models differ" }), "model: models differ"],
    ["only the first issue", errorOf({ path: ["a"], message: "first" }, { path: ["b"], message: "second" }), "a: first"],
    ["no issues at all", errorOf(), "invalid request"],
  ])("%s", (_, error, text) => {
    expect(describeZodError(error)).toBe(text);
  });

  it("describes a real schema failure in one line", () => {
    const result = z.object({ items: z.array(z.object({ n: z.number() })) }).safeParse({ items: [{ n: 1 }, { n: "2" }] });
    const text = describeZodError(result.error!);
    expect(text.startsWith("items[1].n: ")).toBe(true);
    expect(text).not.toContain("\n");
  });
});
