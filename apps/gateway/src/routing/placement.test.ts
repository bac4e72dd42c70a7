import { describe, expect, it } from "vitest";
import { WIRE_VERSION, type LoadedCopy, type WorkerState } from "@caravan/protocol";
import { canTake, compareOffers, filterCandidates, needBytes, place, summarizeCopies, type Offer, type Placement, type PlacementInput } from "./placement.ts";

const M = "stories260k:latest";
const GB = 1_000_000_000;

/** A model file on disk; `size` in bytes. */
function disk(name: string, size = 1 * GB): WorkerState["models"][number] {
  return {
    name,
    model: name,
    modified_at: "2025-01-01T00:00:00Z",
    size,
    digest: "0".repeat(64),
    details: { parent_model: "", format: "gguf", family: "llama", families: null, parameter_size: "1B", quantization_level: "Q8_0" },
    capabilities: ["completion"],
  };
}

/** A loaded copy: idle, 5m keep_alive, 2 GB, 4 slots unless told. */
function copy(model: string, over: Partial<LoadedCopy> = {}): LoadedCopy {
  return { model, loading: false, size_bytes: 2 * GB, context_length: 2048, busy: 0, slots: 4, keep_alive_ms: 300_000, expires_at: null, last_used_at: 1_000, ...over };
}

/**
 * A worker with `M` (and `other`, `big`, `x`, `y`) on disk, 16 GB budget, 4 models at most.
 * memory_used_bytes and busy are derived from `loaded` unless given.
 */
function worker(id: string, over: Partial<WorkerState> = {}): WorkerState {
  const loaded = over.loaded ?? [];
  return {
    v: WIRE_VERSION,
    worker_id: id,
    models: [disk(M), disk("other:latest"), disk("big:latest", 8 * GB), disk("x:latest"), disk("y:latest")],
    num_parallel: 4,
    busy: loaded.reduce((n, c) => n + c.busy, 0),
    started_at: 0,
    draining: false,
    gpu: false,
    loaded,
    max_loaded_models: 4,
    memory_budget_bytes: 16 * GB,
    memory_used_bytes: loaded.reduce((n, c) => n + c.size_bytes, 0),
    engine: "llama",
    ...over,
  };
}

function input(workers: WorkerState[], over: Partial<PlacementInput> = {}): PlacementInput {
  return { model: M, waiting: 1, oldestWaitMs: 0, workers, spillBacklog: 4, ...over };
}

const load = (workerId: string, reason: "cold" | "spill", evicts: string[] = []): Placement => ({ action: "load", workerId, evicts, reason });
const enqueue = (reason: "warm" | "loading" | "saturated"): Placement => ({ action: "enqueue", reason });

describe("place", () => {
  const cases: Array<[string, PlacementInput, Placement | Placement["action"]]> = [
    // unavailable
    ["no worker at all", input([]), "unavailable"],
    ["no worker has the model", input([worker("a", { models: [disk("other:latest")] })]), "unavailable"],
    ["only a draining worker has it", input([worker("a", { draining: true }), worker("b", { models: [] })]), "unavailable"],
    ["a draining worker's warm copy is no capacity", input([worker("a", { draining: true, loaded: [copy(M)] })]), "unavailable"],

    // cold
    ["empty cluster: tie-break by worker_id", input([worker("c"), worker("a"), worker("b")]), load("a", "cold")],
    ["cold skips a draining worker", input([worker("a", { draining: true }), worker("b")]), load("b", "cold")],
    [
      "prefers a worker with room over one needing an eviction",
      input([worker("a", { max_loaded_models: 1, loaded: [copy("other:latest")] }), worker("b", { loaded: [copy("other:latest", { busy: 3 })] })]),
      load("b", "cold"),
    ],
    [
      "evicts the shortest keep_alive first, only as many as needed",
      input([worker("a", { max_loaded_models: 2, loaded: [copy("x:latest", { keep_alive_ms: -1 }), copy("y:latest", { keep_alive_ms: 60_000 })] })]),
      load("a", "cold", ["y:latest"]),
    ],
    [
      "equal keep_alive: least recently used first",
      input([worker("a", { max_loaded_models: 2, loaded: [copy("x:latest", { last_used_at: 500 }), copy("y:latest", { last_used_at: 100 })] })]),
      load("a", "cold", ["y:latest"]),
    ],
    [
      "fewer evictions win",
      // big: an 8 GB file. a must drop one copy for its count, b two for memory.
      input(
        [
          worker("a", { max_loaded_models: 2, loaded: [copy("x:latest"), copy("y:latest")] }),
          worker("b", { memory_budget_bytes: 9 * GB, loaded: [copy("x:latest"), copy("y:latest")] }),
        ],
        { model: "big:latest" },
      ),
      load("a", "cold", ["x:latest"]),
    ],
    [
      "busy copies are never evicted: wait",
      input([worker("a", { max_loaded_models: 1, loaded: [copy("other:latest", { busy: 1 })] })]),
      "wait",
    ],
    [
      "a loading copy is never evicted: wait",
      input([worker("a", { max_loaded_models: 1, loaded: [copy("other:latest", { loading: true })] })]),
      "wait",
    ],
    [
      "memory budget: evicts until it fits",
      input([worker("a", { memory_budget_bytes: 4.5 * GB, loaded: [copy("x:latest", { last_used_at: 1 }), copy("y:latest", { last_used_at: 2 })] })]),
      load("a", "cold", ["x:latest"]),
    ],
    [
      "memory budget: busy model leaves no room",
      input([worker("a", { memory_budget_bytes: 4 * GB, loaded: [copy("other:latest", { busy: 1, size_bytes: 3.5 * GB })] })]),
      "wait",
    ],
    [
      "nothing loaded: takes it even over budget",
      input([worker("a", { memory_budget_bytes: 1, max_loaded_models: 0 })]),
      load("a", "cold"),
    ],
    [
      "need is an existing copy's size_bytes, not the file size",
      // a's copy is on a draining worker: no capacity, but a measurement. 1 GB file, 5 GB copy.
      input([worker("a", { draining: true, loaded: [copy(M, { size_bytes: 5 * GB })] }), worker("b", { memory_budget_bytes: 6 * GB, loaded: [copy("x:latest", { size_bytes: 2 * GB })] })]),
      load("b", "cold", ["x:latest"]),
    ],
    [
      "least-loaded worker preferred",
      input([worker("a", { loaded: [copy("x:latest", { busy: 3 })] }), worker("b", { loaded: [copy("x:latest", { busy: 1 })] })]),
      load("b", "cold"),
    ],
    [
      "equal load: most free memory after the load",
      input([worker("a", { loaded: [copy("x:latest", { size_bytes: 8 * GB })] }), worker("b", { loaded: [copy("x:latest", { size_bytes: 4 * GB })] })]),
      load("b", "cold"),
    ],

    // warm
    ["warm: free sequences", input([worker("a", { loaded: [copy(M, { busy: 1 })] }), worker("b")], { waiting: 3 }), enqueue("warm")],
    ["warm: backlog up to the threshold", input([worker("a", { loaded: [copy(M, { busy: 4 })] }), worker("b")], { waiting: 4 }), enqueue("warm")],
    ["loading copy: enqueue", input([worker("a", { loaded: [copy(M, { loading: true })] }), worker("b")], { waiting: 8 }), enqueue("loading")],
    ["one loaded, one loading: warm", input([worker("a", { loaded: [copy(M, { busy: 4 })] }), worker("b", { loaded: [copy(M, { loading: true })] })], { waiting: 12 }), enqueue("warm")],
    ["pending load counts as a copy: no double load", input([worker("a"), worker("b")], { pendingLoads: ["a"], waiting: 8 }), enqueue("loading")],
    ["pending load on a dead worker is ignored", input([worker("b")], { pendingLoads: ["gone"] }), load("b", "cold")],

    // spill
    [
      "spills past the backlog threshold to another worker",
      input([worker("a", { loaded: [copy(M, { busy: 4 })] }), worker("b")], { waiting: 5 }),
      load("b", "spill"),
    ],
    [
      "never spills to a worker that already has a copy",
      input([worker("a", { loaded: [copy(M, { busy: 4 })] }), worker("b", { loaded: [copy(M, { busy: 4 })] }), worker("c", { loaded: [copy("x:latest", { busy: 2 })] })], { waiting: 9 }),
      load("c", "spill"),
    ],
    [
      "never spills to a worker with a pending load",
      input([worker("a", { loaded: [copy(M, { busy: 4 })] }), worker("b"), worker("c", { loaded: [copy("x:latest", { busy: 1 })] })], { waiting: 13, pendingLoads: ["b"] }),
      load("c", "spill"),
    ],
    [
      "saturated: no other worker",
      input([worker("a", { loaded: [copy(M, { busy: 4 })] })], { waiting: 50 }),
      enqueue("saturated"),
    ],
    [
      "saturated: the other worker is full of busy models",
      input([worker("a", { loaded: [copy(M, { busy: 4 })] }), worker("b", { max_loaded_models: 1, loaded: [copy("x:latest", { busy: 1 })] })], { waiting: 50 }),
      enqueue("saturated"),
    ],
    [
      "saturated: the other worker is draining",
      input([worker("a", { loaded: [copy(M, { busy: 4 })] }), worker("b", { draining: true })], { waiting: 50 }),
      enqueue("saturated"),
    ],
  ];

  it.each(cases)("%s", (_name, given, expected) => {
    const got = place(given);
    if (typeof expected === "string") expect(got.action).toBe(expected);
    else expect(got).toEqual(expected);
  });

  it("gives the same answer whatever the order of the workers", () => {
    const ws = [worker("b", { loaded: [copy("x:latest", { busy: 1 })] }), worker("a", { loaded: [copy("x:latest", { busy: 1 })] }), worker("c", { loaded: [copy("x:latest", { busy: 1 })] })];
    expect(place(input(ws))).toEqual(load("a", "cold"));
    expect(place(input([...ws].reverse()))).toEqual(load("a", "cold"));
  });
});

describe("filterCandidates", () => {
  it("keeps live workers with the model on disk", () => {
    const ws = [worker("a"), worker("b", { draining: true }), worker("c", { models: [disk("x:latest")] })];
    expect(filterCandidates(ws, M).map((w) => w.worker_id)).toEqual(["a"]);
  });
});

describe("summarizeCopies", () => {
  it.each<[string, WorkerState[], string[], { ids: string[]; capacity: number; anyLoaded: boolean }]>([
    ["free sequences of loaded copies", [worker("a", { loaded: [copy(M, { busy: 1 })] })], [], { ids: ["a"], capacity: 3, anyLoaded: true }],
    ["over-busy copy gives no negative capacity", [worker("a", { loaded: [copy(M, { busy: 6 })] })], [], { ids: ["a"], capacity: 0, anyLoaded: true }],
    ["all slots of a loading copy", [worker("a", { loaded: [copy(M, { loading: true, slots: 2 })] })], [], { ids: ["a"], capacity: 2, anyLoaded: false }],
    ["num_parallel of a pending load", [worker("a", { num_parallel: 3 })], ["a"], { ids: ["a"], capacity: 3, anyLoaded: false }],
    ["a pending load already visible counts once", [worker("a", { loaded: [copy(M, { busy: 4 })] })], ["a"], { ids: ["a"], capacity: 0, anyLoaded: true }],
  ])("%s", (_name, ws, pending, expected) => {
    const s = summarizeCopies(ws, M, pending);
    expect({ ids: [...s.workerIds], capacity: s.capacity, anyLoaded: s.anyLoaded }).toEqual(expected);
  });
});

describe("canTake evicts in the worker's own order (planRoom)", () => {
  it("shortest keep_alive first, forever last, then least recently used; never busy or loading copies", () => {
    const loaded = [
      copy("forever", { keep_alive_ms: -1, last_used_at: 1 }),
      copy("long-old", { keep_alive_ms: 600_000, last_used_at: 1 }),
      copy("short-new", { keep_alive_ms: 60_000, last_used_at: 9 }),
      copy("short-old", { keep_alive_ms: 60_000, last_used_at: 2 }),
      copy("busy", { keep_alive_ms: 0, busy: 1 }),
      copy("loading", { keep_alive_ms: 0, loading: true }),
    ];
    // room for one more model only once every idle copy is gone
    const take = canTake(worker("w", { max_loaded_models: 3, memory_budget_bytes: 100 * GB, loaded }), 1 * GB);
    expect(take).toMatchObject({ ok: true, evicts: ["short-old", "short-new", "long-old", "forever"] });
  });
});

describe("canTake", () => {
  it.each<[string, Partial<WorkerState>, number, ReturnType<typeof canTake>]>([
    ["room as is", { loaded: [copy("x:latest")] }, 2 * GB, { ok: true, evicts: [], freeAfter: 12 * GB }],
    ["count full: one eviction", { max_loaded_models: 1, loaded: [copy("x:latest")] }, 2 * GB, { ok: true, evicts: ["x:latest"], freeAfter: 14 * GB }],
    ["memory: two evictions", { memory_budget_bytes: 5 * GB, loaded: [copy("x:latest", { last_used_at: 1 }), copy("y:latest", { last_used_at: 2 })] }, 5 * GB, { ok: true, evicts: ["x:latest", "y:latest"], freeAfter: 0 }],
    ["too big beside a busy copy", { memory_budget_bytes: 5 * GB, loaded: [copy("x:latest", { busy: 1 })] }, 4 * GB, { ok: false }],
    ["too big even alone, something loaded", { memory_budget_bytes: 5 * GB, loaded: [copy("x:latest")] }, 6 * GB, { ok: false }],
    ["nothing loaded: always", { memory_budget_bytes: 5 * GB }, 6 * GB, { ok: true, evicts: [], freeAfter: -1 * GB }],
  ])("%s", (_name, over, need, expected) => expect(canTake(worker("w", over), need)).toEqual(expected));
});

describe("needBytes", () => {
  it.each<[string, WorkerState[], number]>([
    ["file size without a copy", [worker("a")], 1 * GB],
    ["an existing copy's size_bytes", [worker("a"), worker("b", { loaded: [copy(M, { size_bytes: 3 * GB })] })], 3 * GB],
    ["a loaded copy before a loading one", [worker("a", { loaded: [copy(M, { size_bytes: 3 * GB })] }), worker("b", { loaded: [copy(M, { loading: true, size_bytes: 9 * GB })] })], 3 * GB],
    ["a loading copy when no other", [worker("a", { loaded: [copy(M, { loading: true, size_bytes: 9 * GB })] })], 9 * GB],
  ])("%s", (_name, ws, expected) => expect(needBytes(ws, ws[0]!, M)).toBe(expected));
});

describe("compareOffers", () => {
  const o = (workerId: string, evicts: number, busy: number, freeAfter: number): Offer => ({ workerId, evicts: Array.from({ length: evicts }, (_, i) => `m${i}`), busy, freeAfter });
  it.each<[string, Offer, Offer]>([
    ["no evictions beat evictions", o("z", 0, 9, 0), o("a", 1, 0, 99)],
    ["fewer evictions", o("z", 1, 9, 0), o("a", 2, 0, 99)],
    ["fewer busy sequences", o("z", 0, 1, 0), o("a", 0, 2, 99)],
    ["more free memory", o("z", 0, 1, 5), o("a", 0, 1, 4)],
    ["worker_id", o("a", 0, 1, 5), o("b", 0, 1, 5)],
  ])("%s", (_name, better, worse) => {
    expect(compareOffers(better, worse)).toBeLessThan(0);
    expect(compareOffers(worse, better)).toBeGreaterThan(0);
  });
});
