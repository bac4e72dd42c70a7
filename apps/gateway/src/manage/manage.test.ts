import { describe, expect, it } from "vitest";
import { WIRE_VERSION, type ProgressResponse, type WorkerState } from "@caravan/protocol";
import { HttpError } from "../errors.ts";
import { onePerFolder, pullTargets } from "./folders.ts";
import { PullProgressMerger, VERIFYING } from "./pull-progress.ts";
import { describeFailures } from "./pull-run.ts";

const worker = (id: string, folder: string | undefined, extra: Partial<WorkerState> = {}): WorkerState => ({
  v: WIRE_VERSION,
  worker_id: id,
  models: [],
  models_folder_id: folder,
  num_parallel: 1,
  busy: 0,
  started_at: 0,
  draining: false,
  loaded: [],
  max_loaded_models: 1,
  memory_budget_bytes: 0,
  memory_used_bytes: 0,
  engine: "scripted",
  gpu: false,
  ...extra,
});

describe("onePerFolder / pullTargets", () => {
  it("keeps one worker per folder id, preferring one that is not draining, then the least busy", () => {
    const workers = [worker("a", "f1", { busy: 3 }), worker("b", "f1", { busy: 1 }), worker("c", "f2", { draining: true }), worker("d", "f2", { busy: 9 }), worker("e", undefined), worker("f", undefined)];
    expect(onePerFolder(workers).map((w) => w.worker_id)).toEqual(["b", "d", "e", "f"]);
  });

  it("pulls on every live worker, or the named ones, one per folder", () => {
    const workers = [worker("a", "f1"), worker("b", "f1"), worker("c", "f2"), worker("d", "f3", { draining: true })];
    expect(pullTargets(workers).map((w) => w.worker_id)).toEqual(["a", "c"]);
    expect(pullTargets(workers, ["b", "c"]).map((w) => w.worker_id)).toEqual(["b", "c"]);
    expect(() => pullTargets(workers, ["x", "d"])).toThrow("unknown or draining workers 'x', 'd'; live workers: a, b, c");
    expect(() => pullTargets([])).toThrow(HttpError);
  });
});

describe("PullProgressMerger", () => {
  function merger(workers: string[]) {
    let now = 0;
    const lines: ProgressResponse[] = [];
    const m = new PullProgressMerger(workers, (line) => lines.push(line), 100, () => now);
    return { m, lines, tick: (ms: number) => (now += ms) };
  }
  const bytes = (completed: number, total = 100): ProgressResponse => ({ status: "pulling abc", digest: "sha256:abc", total, completed });

  it("sums the workers' bytes into one bar, at most every 100 ms, always at the end", () => {
    const { m, lines, tick } = merger(["w1", "w2"]);
    m.progress("w1", bytes(0));
    m.progress("w2", bytes(0));
    tick(50);
    m.progress("w1", bytes(40)); // within 100 ms: held back
    tick(60);
    m.progress("w2", bytes(30));
    m.progress("w1", bytes(100));
    m.progress("w2", bytes(100)); // all bytes in: sent at once
    m.progress("w1", { status: VERIFYING });
    m.done("w1");
    expect(lines).toEqual([
      { status: "pulling abc", digest: "sha256:abc", total: 100, completed: 0 },
      { status: "pulling abc", digest: "sha256:abc", total: 200, completed: 70 },
      { status: "pulling abc", digest: "sha256:abc", total: 200, completed: 200 },
    ]);
    m.progress("w2", { status: VERIFYING });
    expect(lines.at(-1)).toEqual({ status: VERIFYING });
    m.done("w2");
    expect(lines.filter((l) => l.status === VERIFYING)).toHaveLength(1);
  });

  it("passes other statuses once, drops keepalive repeats, and does not wait for a worker that failed", () => {
    const { m, lines, tick } = merger(["w1", "w2"]);
    m.progress("w1", { status: "x.gguf is already here" });
    m.progress("w1", { status: "x.gguf is already here" });
    m.done("w1");
    m.progress("w2", bytes(10));
    tick(200);
    m.progress("w2", bytes(10));
    m.progress("w2", { status: VERIFYING });
    expect(lines).toEqual([{ status: "x.gguf is already here" }, { status: "pulling abc", digest: "sha256:abc", total: 100, completed: 10 }, { status: VERIFYING }]);
  });
});

describe("describeFailures", () => {
  it("names the reason once when every worker failed alike, else per worker", () => {
    expect(describeFailures([{ workerId: "a", code: "failed", message: "HTTP 404" }, { workerId: "b", code: "failed", message: "HTTP 404" }], [])).toBe("HTTP 404");
    expect(describeFailures([{ workerId: "a", code: "failed", message: "disk full" }], ["b"])).toBe("disk full (pulled on b; failed on a)");
    expect(describeFailures([{ workerId: "a", code: "failed", message: "x" }, { workerId: "b", code: "failed", message: "y" }], [])).toBe("a: x; b: y");
  });
});
