import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonical, chatBody, chatOnce, copiesOf, getPs, modelLabel, startModelsCluster, waitForPs, workerMetric, type ModelsCluster, type Ps } from "../harness/scenario.ts";

/**
 * Residency across a cluster (real redis-server, real worker processes, real tiny model under
 * three names): warm-first placement, spill-over under backlog, keep_alive, and eviction.
 *
 * Requests never set num_ctx: a num_ctx other than the one a copy was loaded with makes residency
 * load it again with that context, which would add loads that have nothing to do with placement.
 *
 * What each worker did is read from its own /metrics, not its log: loads and output tokens, per
 * model.
 */

/** Loads of `name` on each worker, in order (e.g. [0, 1, 0]). */
const loadsOf = (cluster: ModelsCluster, name: string) => workerMetric(cluster, "caravan_model_loads_total", modelLabel(name));
const totalLoads = async (cluster: ModelsCluster, name: string) => (await loadsOf(cluster, name)).reduce((a, b) => a + b, 0);
/** Output tokens each worker generated for `name`, in order. */
const tokensOf = (cluster: ModelsCluster, name: string) => workerMetric(cluster, "caravan_tokens_generated_total", modelLabel(name));
/** worker-N for each worker whose count is above 0 */
const holders = (counts: number[]) => counts.flatMap((n, i) => (n > 0 ? [`worker-${i + 1}`] : []));

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
    const loads = await loadsOf(cluster, "alpha");
    expect(holders(loads)).toEqual([holder]);
    expect(loads.reduce((a, b) => a + b, 0)).toBe(1);
    // All six ran there: that worker generated their tokens, the others none.
    const tokens = await tokensOf(cluster, "alpha");
    expect(holders(tokens)).toEqual([holder]);
    expect(tokens.reduce((a, b) => a + b, 0)).toBe(6 * 16);
  });

  const HOUR = 3_600_000;
  const idleCopy = (name: string) => (p: Ps) => copiesOf(p, name).length > 0 && copiesOf(p, name)[0]!.busy === 0;
  /**
   * /api/ps reads the workers' states afresh (no gateway cache), and a worker's state only moves
   * forward: once a copy was seen or its request answered, "gone" cannot be a snapshot from before.
   */
  const waitGone = (name: string, what: string) => waitForPs(url, (p) => copiesOf(p, name).length === 0, 5000, what);

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

    // messages: [] with keep_alive 0: unloaded everywhere (a later test loads it again from cold)
    const unload = await chatOnce(url, { model: "gamma", messages: [], keep_alive: 0 });
    expect(unload).toMatchObject({ status: 200, body: { model: "gamma", done: true, done_reason: "unload", message: { role: "assistant", content: "" } } });
    await waitGone("gamma", "gamma gone from /api/ps");
  });

  it("unloads a warm model once a request with keep_alive 0 ends", async () => {
    expect(await chatOnce(url, { model: "beta", messages: [] })).toMatchObject({ status: 200, body: { done: true, done_reason: "load" } });
    await waitForPs(url, (p) => copiesOf(p, "beta").length === 1, 5000, "beta in /api/ps");
    const loadsBefore = await totalLoads(cluster, "beta");
    const answer = await chatOnce(url, chatBody("beta", 8, { keep_alive: 0 }));
    expect(answer).toMatchObject({ status: 200, body: { done: true, eval_count: 8, load_duration: 0 } });
    expect(await totalLoads(cluster, "beta")).toBe(loadsBefore);
    await waitGone("beta", "beta unloaded after a keep_alive 0 request");
  });

  it("unloads with messages: [] and keep_alive 0 right after the model was loaded", async () => {
    await waitGone("beta", "beta not loaded");
    const loadsBefore = await totalLoads(cluster, "beta");
    const loaded = await chatOnce(url, chatBody("beta", 8));
    expect(loaded).toMatchObject({ status: 200, body: { done: true, eval_count: 8 } });
    // the previous test's unload was real: this request loaded beta again
    expect(loaded.body.load_duration).toBeGreaterThan(0);
    expect(await totalLoads(cluster, "beta")).toBe(loadsBefore + 1);
    // at once, as `ollama run` followed by `ollama stop` would
    const unload = await chatOnce(url, { model: "beta", messages: [], keep_alive: 0 });
    expect(unload).toMatchObject({ status: 200, body: { done: true, done_reason: "unload" } });
    await waitGone("beta", "beta gone from /api/ps after the unload");
  });

  it("serves a request with keep_alive 0 for a cold model on one load, then unloads it", async () => {
    await waitGone("gamma", "gamma not loaded");
    const loadsBefore = await totalLoads(cluster, "gamma");
    const answer = await chatOnce(url, chatBody("gamma", 8, { keep_alive: 0 }));
    expect(answer).toMatchObject({ status: 200, body: { done: true, eval_count: 8 } });
    // Like Ollama: load, run, unload — the copy loaded for this request is the one that runs it,
    // not unloaded before the job can take it (and loaded again later).
    expect(answer.body.load_duration).toBeGreaterThan(0);
    expect((await totalLoads(cluster, "gamma")) - loadsBefore).toBe(1);
    await waitGone("gamma", "gamma unloaded after a keep_alive 0 request");
  });

  it("keeps a model with a negative keep_alive forever (expires_at centuries away)", async () => {
    const loadsBefore = await totalLoads(cluster, "gamma");
    // (loaded again: the previous test's keep_alive 0 did unload it)
    expect(await chatOnce(url, chatBody("gamma", 8, { keep_alive: -1 }))).toMatchObject({ status: 200, body: { done: true, eval_count: 8 } });
    expect(await totalLoads(cluster, "gamma")).toBe(loadsBefore + 1);
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
    // both workers generated some of the N answers' tokens, and all of them between them
    const served = await tokensOf(cluster, "beta");
    expect(served.reduce((a, b) => a + b, 0)).toBe(N * 800);
    expect(holders(served)).toEqual(["worker-1", "worker-2"]);
    // a real second copy, not the same one twice
    expect(holders(await loadsOf(cluster, "beta"))).toEqual(["worker-1", "worker-2"]);
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
    // one load each on the one worker, which holds one model now
    expect(await loadsOf(cluster, "alpha")).toEqual([1]);
    expect(await loadsOf(cluster, "gamma")).toEqual([1]);
    expect(await workerMetric(cluster, "caravan_models_loaded")).toEqual([1]);
  });
});
