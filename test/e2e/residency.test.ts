import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonical, chatBody, chatOnce, copiesOf, getPs, logsOf, pollUntil, sleep, startModelsCluster, waitForPs, type ModelsCluster, type Ps } from "../harness/scenario.ts";

/**
 * Residency across a cluster (real redis-server, real worker processes, real tiny model under
 * three names): warm-first placement, spill-over under backlog, keep_alive, and eviction.
 *
 * Requests never set num_ctx: a num_ctx other than the one a copy was loaded with makes the engine
 * reload it, which would add load/unload lines that have nothing to do with residency.
 */


/** Residency's "model loaded" line (one per load; the engine logs a second "model loaded" line of its own, with contextSize). */
const residencyLoads = (cluster: ModelsCluster, name: string) =>
  cluster.workers.flatMap((w, i) => logsOf(w, "model loaded", name).filter((l) => "loadDurationMs" in l).map(() => `worker-${i + 1}`));
const engineLoads = (cluster: ModelsCluster, name: string) =>
  cluster.workers.flatMap((w, i) => logsOf(w, "model loaded", name).filter((l) => "contextSize" in l).map(() => `worker-${i + 1}`));

/** ms from now until a copy's expires_at */
const expiresIn = (ps: Ps, name: string) => Date.parse(copiesOf(ps, name)[0]!.expires_at) - Date.now();

describe("warm first and keep_alive (1 gateway, 3 workers)", () => {
  let cluster: ModelsCluster;
  let url: string;
  beforeAll(async () => void ({ cluster, url } = await startModelsCluster({ workers: 3 })));
  afterAll(async () => cluster?.stop());

  it("loads a model once and runs every later request on that warm copy", async () => {
    const load = await chatOnce(url, { model: "alpha", messages: [] });
    expect(load).toMatchObject({ status: 200, body: { model: "alpha", done: true, done_reason: "load", message: { role: "assistant", content: "" } } });

    for (let i = 0; i < 6; i++) {
      const answer = await chatOnce(url, chatBody("alpha", 16));
      expect(answer).toMatchObject({ status: 200, body: { done: true, done_reason: "length", eval_count: 16 } });
      expect((answer.body.message as { content: string }).content.length).toBeGreaterThan(0);
      // warm: no load time after the first load
      expect(answer.body.load_duration).toBe(0);
    }

    const ps = await waitForPs(url, (p) => copiesOf(p, "alpha").length > 0, 5000, "alpha in /api/ps");
    const copies = copiesOf(ps, "alpha");
    expect(copies).toHaveLength(1);
    const holder = copies[0]!.worker;
    // One load in the whole cluster, on the worker /api/ps names (and no engine reload either).
    expect(residencyLoads(cluster, "alpha")).toEqual([holder]);
    expect(engineLoads(cluster, "alpha")).toEqual([holder]);
    // log lines come over a pipe and may trail the HTTP answer: wait for all six
    await pollUntil(async () => cluster.workers.reduce((n, w) => n + logsOf(w, "job finished", "alpha").length, 0), (n) => n >= 6, 3000, "six job finished lines");
    const finished = cluster.workers.map((w, i) => ({ worker: `worker-${i + 1}`, jobs: logsOf(w, "job finished", "alpha").length }));
    expect(finished.filter((f) => f.jobs > 0)).toEqual([{ worker: holder, jobs: 6 }]);
  });

  const HOUR = 3_600_000;
  const idleCopy = (name: string) => (p: Ps) => copiesOf(p, name).length > 0 && copiesOf(p, name)[0]!.busy === 0;
  /** Waits past the gateway's ~1 s cache of worker state, so that an old snapshot cannot pass for "gone". */
  const waitGone = async (name: string, what: string) => {
    await sleep(1200);
    return waitForPs(url, (p) => copiesOf(p, name).length === 0, 5000, what);
  };
  const unloadedLines = (name: string) => cluster.workers.flatMap((w) => logsOf(w, "model unloaded", name)).length;

  it("shows keep_alive as expires_at, sticky and moved by the latest request; messages: [] with keep_alive 0 unloads", async () => {
    // keep_alive "1h": expires about an hour from now
    expect(await chatOnce(url, chatBody("gamma", 8, { keep_alive: "1h" }))).toMatchObject({ status: 200, body: { done: true, eval_count: 8 } });
    // Wait for the expiry to show, not only for an idle copy: the copy was idle too between its
    // load (at the server's default keep_alive) and the job, and the gateway's ~1 s cache of
    // worker state can still hold that moment when a quick request has already been answered.
    let ps = await waitForPs(url, (p) => idleCopy("gamma")(p) && expiresIn(p, "gamma") > 30 * 60_000, 5000, "gamma idle in /api/ps, with its 1h expiry");
    expect(copiesOf(ps, "gamma")).toHaveLength(1);
    expect(Math.abs(expiresIn(ps, "gamma") - HOUR)).toBeLessThan(120_000);

    // keep_alive 30 (seconds): the expiry moves to about 30 s from now
    expect(await chatOnce(url, chatBody("gamma", 8, { keep_alive: 30 }))).toMatchObject({ status: 200, body: { done: true, eval_count: 8 } });
    ps = await waitForPs(url, (p) => idleCopy("gamma")(p) && expiresIn(p, "gamma") < 10 * 60_000, 5000, "gamma's expires_at to move");
    expect(copiesOf(ps, "gamma")).toHaveLength(1);
    expect(Math.abs(expiresIn(ps, "gamma") - 30_000)).toBeLessThan(10_000);

    // messages: [] with keep_alive 0: unloaded everywhere
    const before = unloadedLines("gamma");
    const unload = await chatOnce(url, { model: "gamma", messages: [], keep_alive: 0 });
    expect(unload).toMatchObject({ status: 200, body: { model: "gamma", done: true, done_reason: "unload", message: { role: "assistant", content: "" } } });
    await waitGone("gamma", "gamma gone from /api/ps");
    await pollUntil(async () => unloadedLines("gamma"), (n) => n === before + 1, 5000, "gamma's unload in the worker log");
  });

  it("unloads a warm model once a request with keep_alive 0 ends", async () => {
    expect(await chatOnce(url, { model: "beta", messages: [] })).toMatchObject({ status: 200, body: { done: true, done_reason: "load" } });
    await waitForPs(url, (p) => copiesOf(p, "beta").length === 1, 5000, "beta in /api/ps");
    const loadsBefore = residencyLoads(cluster, "beta").length;
    const unloadsBefore = unloadedLines("beta");
    const answer = await chatOnce(url, chatBody("beta", 8, { keep_alive: 0 }));
    expect(answer).toMatchObject({ status: 200, body: { done: true, eval_count: 8, load_duration: 0 } });
    expect(residencyLoads(cluster, "beta").length).toBe(loadsBefore);
    await waitGone("beta", "beta unloaded after a keep_alive 0 request");
    await pollUntil(async () => unloadedLines("beta"), (n) => n === unloadsBefore + 1, 5000, "beta's unload in the worker log");
  });

  it("unloads with messages: [] and keep_alive 0 right after the model was loaded", async () => {
    await waitGone("beta", "beta not loaded");
    const unloadsBefore = unloadedLines("beta");
    expect(await chatOnce(url, chatBody("beta", 8))).toMatchObject({ status: 200, body: { done: true, eval_count: 8 } });
    // at once, as `ollama run` followed by `ollama stop` would
    const unload = await chatOnce(url, { model: "beta", messages: [], keep_alive: 0 });
    expect(unload).toMatchObject({ status: 200, body: { done: true, done_reason: "unload" } });
    await waitGone("beta", "beta gone from /api/ps after the unload");
    await pollUntil(async () => unloadedLines("beta"), (n) => n === unloadsBefore + 1, 5000, "beta's unload in the worker log");
  });

  it("serves a request with keep_alive 0 for a cold model on one load, then unloads it", async () => {
    await waitGone("gamma", "gamma not loaded");
    const loadsBefore = residencyLoads(cluster, "gamma").length;
    const unloadsBefore = unloadedLines("gamma");
    const answer = await chatOnce(url, chatBody("gamma", 8, { keep_alive: 0 }));
    expect(answer).toMatchObject({ status: 200, body: { done: true, eval_count: 8 } });
    // Like Ollama: load, run, unload — the copy loaded for this request is the one that runs it,
    // not unloaded before the job can take it (and loaded again later).
    expect(residencyLoads(cluster, "gamma").length - loadsBefore).toBe(1);
    await waitGone("gamma", "gamma unloaded after a keep_alive 0 request");
    await pollUntil(async () => unloadedLines("gamma"), (n) => n >= unloadsBefore + 1, 5000, "gamma's unload in the worker log");
    expect(unloadedLines("gamma")).toBe(unloadsBefore + 1);
  });

  it("keeps a model with a negative keep_alive forever (expires_at centuries away)", async () => {
    expect(await chatOnce(url, chatBody("gamma", 8, { keep_alive: -1 }))).toMatchObject({ status: 200, body: { done: true, eval_count: 8 } });
    // (as above: a snapshot from before the job may still be cached, so wait for the change)
    const forever = (p: Ps) => idleCopy("gamma")(p) && new Date(copiesOf(p, "gamma")[0]!.expires_at).getUTCFullYear() > 2200;
    const ps = await waitForPs(url, forever, 5000, "gamma idle in /api/ps, expiring centuries away");
    const [copy] = copiesOf(ps, "gamma");
    expect(new Date(copy!.expires_at).getUTCFullYear()).toBeGreaterThan(2200);
    // the other fields a client reads are there too
    expect(copy).toMatchObject({ name: "gamma:latest", model: "gamma:latest", size_vram: 0, slots: 4, busy: 0, details: { format: "gguf", family: "llama" } });
    expect(copy!.size).toBeGreaterThan(0);
    expect(copy!.context_length).toBeGreaterThan(0);
    expect(copy!.digest).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("spill-over under backlog (2 workers, CARAVAN_NUM_PARALLEL=1, CARAVAN_SPILL_BACKLOG=0)", () => {
  let cluster: ModelsCluster;
  let url: string;
  beforeAll(async () => void ({ cluster, url } = await startModelsCluster({ workers: 2, env: { CARAVAN_NUM_PARALLEL: "1", CARAVAN_SPILL_BACKLOG: "0" } })));
  afterAll(async () => cluster?.stop());

  it("loads a second copy when requests wait, and both copies serve", async () => {
    const N = 4;
    const answers = Promise.all(Array.from({ length: N }, () => chatOnce(url, chatBody("beta", 800))));
    let done = false;
    void answers.finally(() => (done = true));

    // While they run: beta on two workers, both busy at once.
    const snapshots: Ps[] = [];
    while (!done) {
      snapshots.push(await getPs(url));
      await new Promise((r) => setTimeout(r, 200));
    }
    const workersListed = new Set(snapshots.flatMap((p) => copiesOf(p, "beta").map((c) => c.worker)));
    expect(workersListed.size).toBe(2);
    expect(snapshots.some((p) => copiesOf(p, "beta").filter((c) => c.busy > 0).length === 2)).toBe(true);

    for (const answer of await answers) expect(answer).toMatchObject({ status: 200, body: { done: true, eval_count: 800 } });
    await pollUntil(async () => cluster.workers.reduce((n, w) => n + logsOf(w, "job finished", "beta").length, 0), (n) => n >= N, 3000, `${N} job finished lines`);
    const served = cluster.workers.map((w) => logsOf(w, "job finished", "beta").length);
    expect(served.reduce((a, b) => a + b, 0)).toBe(N);
    for (const count of served) expect(count).toBeGreaterThan(0);
    // a real second copy, not the same one twice
    expect(new Set(residencyLoads(cluster, "beta"))).toEqual(new Set(["worker-1", "worker-2"]));
  });
});

describe("more models than fit (1 worker, CARAVAN_MAX_LOADED_MODELS=1)", () => {
  let cluster: ModelsCluster;
  let url: string;
  beforeAll(async () => void ({ cluster, url } = await startModelsCluster({ workers: 1, env: { CARAVAN_MAX_LOADED_MODELS: "1" } })));
  afterAll(async () => cluster?.stop());

  it("evicts the idle model to load the requested one", async () => {
    expect(await chatOnce(url, { model: "alpha", messages: [] })).toMatchObject({ status: 200, body: { done: true, done_reason: "load" } });
    await waitForPs(url, (p) => copiesOf(p, "alpha").length === 1, 5000, "alpha in /api/ps");

    const answer = await chatOnce(url, chatBody("gamma", 16));
    expect(answer).toMatchObject({ status: 200, body: { done: true, eval_count: 16 } });

    const ps = await waitForPs(url, (p) => copiesOf(p, "gamma").length === 1 && copiesOf(p, "alpha").length === 0, 5000, "gamma in and alpha out of /api/ps");
    expect(ps.models.map((m) => [m.name, m.worker])).toEqual([[canonical("gamma"), "worker-1"]]);
    const [worker] = cluster.workers;
    expect(logsOf(worker!, "model unloaded", "alpha")).toHaveLength(1);
    expect(worker!.logs.filter((l) => l.msg === "evicting idle model to make room")).toMatchObject([{ model: "alpha:latest", for: "gamma:latest" }]);
  });
});
