import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { RequestSignals } from "./request-signals.ts";

/** Runs a request that waits until `release` is called, and hands back its signal. */
function hold(requests: RequestSignals, caller: AbortSignal) {
  let release!: () => void;
  let signal!: AbortSignal;
  const done = requests.run(caller, (s) => {
    signal = s;
    return new Promise<string>((resolve) => (release = () => resolve("released")));
  });
  return { done, signal, release };
}

describe("RequestSignals", () => {
  it("aborts a request's signal with its caller's reason, and no other request's", async () => {
    const requests = new RequestSignals();
    const first = new AbortController();
    const second = new AbortController();
    const a = hold(requests, first.signal);
    const b = hold(requests, second.signal);
    first.abort("client left");
    expect(a.signal.aborted).toBe(true);
    expect(a.signal.reason).toBe("client left");
    expect(b.signal.aborted).toBe(false);
    a.release();
    b.release();
    expect(await Promise.all([a.done, b.done])).toEqual(["released", "released"]);
  });

  it("aborts every running request on close(), with the close reason, and every later one at once", async () => {
    const requests = new RequestSignals();
    const callers = [new AbortController(), new AbortController()];
    const running = callers.map((c) => hold(requests, c.signal));
    const closedWith = new Error("engine closed");
    requests.close(closedWith);
    expect(requests.closed.aborted).toBe(true);
    for (const r of running) expect(r.signal.reason).toBe(closedWith);
    for (const c of callers) expect(c.signal.aborted).toBe(false); // the callers' own signals are not touched
    const later = hold(requests, new AbortController().signal);
    expect(later.signal.aborted).toBe(true);
    expect(later.signal.reason).toBe(closedWith);
    for (const r of [...running, later]) r.release();
    await Promise.all([...running, later].map((r) => r.done));
  });

  it("starts a request whose caller already aborted with an aborted signal", async () => {
    const requests = new RequestSignals();
    const caller = AbortSignal.abort("gone before it started");
    const seen = await requests.run(caller, async (signal) => [signal.aborted, signal.reason]);
    expect(seen).toEqual([true, "gone before it started"]);
  });

  it("forgets a request once its work settles, fulfilled or rejected: no listener left, close() leaves its signal alone", async () => {
    const requests = new RequestSignals();
    const caller = new AbortController();
    let fulfilled!: AbortSignal;
    let rejected!: AbortSignal;
    await requests.run(caller.signal, async (signal) => void (fulfilled = signal));
    await expect(
      requests.run(caller.signal, async (signal) => {
        rejected = signal;
        throw new Error("generation failed");
      }),
    ).rejects.toThrow("generation failed");
    // One caller, many requests (a long-lived signal): each request's listener is gone again.
    for (let i = 0; i < 1000; i++) await requests.run(caller.signal, async () => i);
    expect(getEventListeners(caller.signal, "abort")).toHaveLength(0);
    requests.close("closing");
    caller.abort("late");
    expect(fulfilled.aborted).toBe(false);
    expect(rejected.aborted).toBe(false);
  });
});
