import { describe, expect, it } from "vitest";
import { canonicalModelName } from "./model-name.ts";

describe("canonicalModelName", () => {
  it.each([
    ["Stories260K", "stories260k:latest"],
    ["stories260k", "stories260k:latest"],
    ["stories260k:latest", "stories260k:latest"],
    ["foo:Q4", "foo:q4"],
    ["FOO:Q4_K_M", "foo:q4_k_m"],
    ["llama3.2:1b", "llama3.2:1b"],
    ["ns/foo", "ns/foo:latest"],
    ["ns/foo:7b", "ns/foo:7b"],
    ["host:5000/ns/foo", "host:5000/ns/foo:latest"], // the port's colon is not a tag
    ["host:5000/ns/foo:v2", "host:5000/ns/foo:v2"],
    ["registry.example.com/NS/Foo", "registry.example.com/ns/foo:latest"],
    ["  stories260k  ", "stories260k:latest"],
    ["\tfoo:Q4\n", "foo:q4"],
  ])("%j → %j", (name, canonical) => {
    expect(canonicalModelName(name)).toBe(canonical);
  });

  it("is idempotent", () => {
    for (const name of ["Stories260K", "host:5000/ns/foo", "foo:Q4", " ns/foo "]) {
      const once = canonicalModelName(name);
      expect(canonicalModelName(once)).toBe(once);
    }
  });
});
