import { describe, expect, it } from "vitest";
import { closeAll } from "./close-all.ts";

describe("closeAll", () => {
  it("runs every step in order, also after one fails, then throws the first failure", async () => {
    const ran: string[] = [];
    const failure = closeAll([
      () => ran.push("a"),
      () => Promise.reject(new Error("first")),
      async () => void ran.push("c"),
      () => {
        throw new Error("second");
      },
      () => ran.push("e"),
    ]);
    await expect(failure).rejects.toThrow("first");
    expect(ran).toEqual(["a", "c", "e"]);
  });

  it("resolves when every step does", async () => {
    await expect(closeAll([() => undefined, () => Promise.resolve(1)])).resolves.toBeUndefined();
  });
});
