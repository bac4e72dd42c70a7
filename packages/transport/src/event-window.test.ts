import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WIRE_VERSION, type JobEvent } from "@caravan/protocol";
import { EventWindow, JOB_WINDOW_MS, jobUrgency } from "./event-window.ts";

/** One job's events through the in-process window, on a fake clock. */
const started: JobEvent = { v: WIRE_VERSION, type: "started", id: "j", seq: 0, worker_id: "w" };
const chunk = (seq: number, content: string): JobEvent => ({ v: WIRE_VERSION, type: "chunk", id: "j", seq, content });
const done = (seq: number): JobEvent => ({
  v: WIRE_VERSION,
  type: "done",
  id: "j",
  seq,
  done_reason: "stop",
  worker_id: "w",
  metrics: { load_duration: 0, prompt_eval_count: 1, prompt_eval_duration: 1, eval_count: 1, eval_duration: 1 },
});

describe("EventWindow", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] }));
  afterEach(() => vi.useRealTimers());

  it("hands a job's start and first output over at once, the tokens that follow within the window at its end, and its end at once", async () => {
    const seen: number[] = [];
    const window = new EventWindow((event) => seen.push(event.seq));
    void window.send(started);
    expect(seen).toEqual([0]); // synchronously: the window was quiet
    vi.advanceTimersByTime(1);
    void window.send(chunk(1, "a")); // the first output: at once
    expect(seen).toEqual([0, 1]);
    let handed = false;
    void window.send(chunk(2, "b")).then(() => (handed = true));
    void window.send(chunk(3, "c"));
    await Promise.resolve();
    expect([seen, handed]).toEqual([[0, 1], false]);
    vi.advanceTimersByTime(JOB_WINDOW_MS);
    await Promise.resolve();
    expect([seen, handed]).toEqual([[0, 1, 2, 3], true]); // together, and each send resolved
    vi.advanceTimersByTime(1);
    void window.send(chunk(4, "d"));
    void window.send(done(5)); // the end takes what waits before it along, at once
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects the send whose event could not be handed over, and hands the others over", async () => {
    const seen: number[] = [];
    const window = new EventWindow((event) => {
      if (event.seq === 2) throw new Error("gateway bug");
      seen.push(event.seq);
    });
    await window.send(started);
    await window.send(chunk(1, "a"));
    const failing = window.send(chunk(2, "b"));
    const after = window.send(chunk(3, "c"));
    vi.advanceTimersByTime(JOB_WINDOW_MS);
    await expect(failing).rejects.toThrow("gateway bug");
    await after;
    expect(seen).toEqual([0, 1, 3]);
  });
});

describe("jobUrgency", () => {
  const urgencies = (types: string[]) => {
    const urgent = jobUrgency();
    return types.map((type) => urgent({ type }));
  };

  it("sends a job's first output and its end at once; its start and the tokens between ride the window", () => {
    expect(urgencies(["started", "chunk", "chunk", "chunk", "done"])).toEqual([false, true, false, false, true]);
  });

  it("sends an error at once, whether or not output came before it", () => {
    expect(urgencies(["started", "error"])).toEqual([false, true]);
    expect(urgencies(["started", "chunk", "chunk", "error"])).toEqual([false, true, false, true]);
  });

  it("sends a job that ends without output at once", () => {
    expect(urgencies(["started", "done"])).toEqual([false, true]);
  });
});
