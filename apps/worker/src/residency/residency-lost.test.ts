import { describe, expect, it } from "vitest";
import { settle } from "./fake-clock.ts";
import { fakeResidency } from "./fake-loader.ts";

const options = {};

describe("a copy the engine lost (its runner process crashed)", () => {
  it("takes no new work at once, is forgotten when its jobs release it, and the next request loads it again", async () => {
    const { residency, loader } = fakeResidency({ memoryBudgetBytes: 1000 });
    const lease = await residency.acquire("a", { options });
    expect(residency.usedBytes()).toBe(100);

    residency.lost("a", "runner crashed (SIGABRT)");
    expect(residency.isLoaded("a")).toBe(false);
    expect(residency.snapshot()).toEqual([]);
    lease.release(); // the engine failed the job; it lets go
    await settle();
    expect(residency.usedBytes()).toBe(0);

    const again = await residency.acquire("a", { options });
    expect(again.loadDurationNs).toBeGreaterThan(0);
    expect(residency.isLoaded("a")).toBe(true);
    expect(loader.calls).toEqual(["load a", "unload a", "load a"]);
    again.release();
  });

  it("is a no-op for a model that is not loaded", () => {
    const { residency, loader } = fakeResidency();
    residency.lost("a", "runner crashed");
    expect(loader.calls).toEqual([]);
  });
});
