import { describe, expect, it } from "vitest";
import { HeardCancels } from "./heard-cancels.ts";

describe("HeardCancels", () => {
  it("gives a heard cancel's reason once, for a minute", () => {
    let now = 1_000_000;
    const cancels = new HeardCancels(() => now);
    cancels.remember("a", "client disconnected");
    cancels.remember("b", "queue timeout");
    expect(cancels.take("a")).toBe("client disconnected");
    expect(cancels.take("a")).toBeUndefined();
    now += 60_000;
    expect(cancels.take("b")).toBeUndefined();
    expect(cancels.take("never")).toBeUndefined();
  });

  it("forgets the oldest beyond its bound", () => {
    const now = 1_000_000;
    const cancels = new HeardCancels(() => now);
    for (let i = 0; i <= 10_000; i++) cancels.remember(`job-${i}`, "gone");
    expect(cancels.take("job-0")).toBeUndefined();
    expect(cancels.take("job-1")).toBe("gone");
    expect(cancels.take("job-10000")).toBe("gone");
  });

  it("vouches only for jobs accepted well after it began listening, and not while deaf", () => {
    let now = 1_000_000;
    const cancels = new HeardCancels(() => now);
    expect(cancels.heardAllSince(now + 3_600_000)).toBe(false); // never listened
    cancels.listening();
    expect(cancels.heardAllSince(now)).toBe(false); // accepted as it subscribed: maybe not
    expect(cancels.heardAllSince(now + 30_001)).toBe(true);
    now += 3_600_000;
    cancels.listening(); // a second "ready" while listening changes nothing
    expect(cancels.heardAllSince(now)).toBe(true);
    cancels.deaf();
    expect(cancels.heardAllSince(now)).toBe(false);
    cancels.listening();
    expect(cancels.heardAllSince(now)).toBe(false); // reconnected just now
    expect(cancels.heardAllSince(now + 30_001)).toBe(true);
  });
});
