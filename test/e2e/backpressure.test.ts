import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson } from "../harness/ndjson.ts";
import { chatBody, chatOnce, ChatStream, getPs, metricAt, modelLabel, pollUntil, sleep, startModelsCluster, tokensGenerated, waitForPs, waitingFor, type ModelsCluster } from "../harness/scenario.ts";

/**
 * Backpressure over Redis with one worker that runs one request at a time
 * (CARAVAN_NUM_PARALLEL=1): a bounded queue answers 503 at once, a request that waits too long
 * gets a 503 naming its model, and a client that gives up while queued leaves nothing behind.
 *
 * "Never runs" is checked without waiting for time: a request sent afterwards runs to its end,
 * and with one slot and jobs taken in order, a job left in the queue would have run before it;
 * the worker's token count (its /metrics) then holds exactly the tokens of the requests that ran.
 */

const BUSY = { error: "server busy, please try again.  maximum pending requests exceeded" };
/** distinctive lengths, so that the worker's token count tells whether an abandoned request ran */
const ABANDONED_TOKENS = 33;
const QUICKLY_ABANDONED_TOKENS = 34;
/** the request sent last, that runs once nothing is left in front of it */
const PROBE_TOKENS = 8;

/** Sends the probe: it runs at once on the free worker, after anything still queued. */
async function probe(url: string): Promise<void> {
  expect(await chatOnce(url, chatBody("alpha", PROBE_TOKENS))).toMatchObject({ status: 200, body: { done: true, eval_count: PROBE_TOKENS } });
}

describe("bounded queue (1 worker, CARAVAN_NUM_PARALLEL=1, CARAVAN_MAX_QUEUE=2)", () => {
  let cluster: ModelsCluster;
  let url: string;
  beforeAll(async () => void ({ cluster, url } = await startModelsCluster({ workers: 1, env: { CARAVAN_NUM_PARALLEL: "1", CARAVAN_MAX_QUEUE: "2" } })));
  afterAll(async () => cluster?.stop());

  it("answers 503 with Ollama's message and Retry-After when the queue is full; the waiting requests still complete", async () => {
    const tokensBefore = await tokensGenerated(cluster, "alpha");
    const refusedBefore = await metricAt(`${url}/metrics`, "caravan_requests_rejected_total", { caravan_reject_reason: "queue_full" });
    // One running (its first chunk came back), two waiting: the queue is full.
    const running = await ChatStream.open(url, chatBody("alpha", 800));
    const waiting = [chatOnce(url, chatBody("alpha", 16)), chatOnce(url, chatBody("alpha", 16, { messages: [{ role: "user", content: "The little bird" }] }))];
    await waitForPs(url, (p) => waitingFor(p, "alpha") === 2, 5000, "two requests waiting for alpha");

    const refused = await chatOnce(url, chatBody("alpha", 16));
    const refusedStream = await postJson(`${url}/api/chat`, chatBody("alpha", 16, { stream: true }));
    expect(running.endedAt, "the first request was still running").toBeUndefined();
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual(BUSY);
    expect(refused.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    expect(refusedStream.status).toBe(503);
    expect(await refusedStream.json()).toEqual(BUSY);
    expect(refusedStream.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);

    const lines = await running.ended;
    expect(lines.at(-1)!.line).toMatchObject({ model: "alpha", done: true, done_reason: "length", eval_count: 800 });
    expect(running.content().length).toBeGreaterThan(100);
    const [first, second] = await Promise.all(waiting);
    for (const answer of [first!, second!]) {
      expect(answer).toMatchObject({ status: 200, body: { model: "alpha", done: true, eval_count: 16 } });
      expect((answer.body.message as { content: string }).content.length).toBeGreaterThan(0);
    }
    expect((first!.body.message as { content: string }).content).not.toBe((second!.body.message as { content: string }).content);
    expect(waitingFor(await getPs(url), "alpha")).toBe(0);
    // exactly the three admitted requests ran: the worker generated their tokens and no others
    expect((await tokensGenerated(cluster, "alpha")) - tokensBefore).toBe(800 + 16 + 16);
    // and the gateway counted the two refusals as queue_full
    expect((await metricAt(`${url}/metrics`, "caravan_requests_rejected_total", { caravan_reject_reason: "queue_full" })) - refusedBefore).toBe(2);
  });

  it("drops a request whose client gives up while it waits: it never runs", async () => {
    const tokensBefore = await tokensGenerated(cluster, "alpha");
    const running = await ChatStream.open(url, chatBody("alpha", 1000));
    const controller = new AbortController();
    const abandoned = chatOnce(url, chatBody("alpha", ABANDONED_TOKENS), { signal: controller.signal }).then(
      (answer) => `answered ${answer.status}`,
      (error: Error) => error.name,
    );
    // It waits in the queue (see the next test for a client that gives up at once).
    await waitForPs(url, (p) => waitingFor(p, "alpha") === 1, 5000, "the second request waiting");
    controller.abort();
    expect(await abandoned).toBe("AbortError");
    // The gateway takes it out of the queue at once, while the first still runs.
    await waitForPs(url, (p) => waitingFor(p, "alpha") === 0, 1500, "the abandoned request to leave the queue");
    expect(running.endedAt, "the first request was still running").toBeUndefined();

    const lines = await running.ended;
    expect(lines.at(-1)!.line).toMatchObject({ done: true, eval_count: 1000 });
    // The worker is free now, and the model still answers; had the abandoned job stayed in the
    // queue it would have run before this one.
    await probe(url);
    expect((await tokensGenerated(cluster, "alpha")) - tokensBefore, `tokens generated (an abandoned job adds ${ABANDONED_TOKENS})`).toBe(1000 + PROBE_TOKENS);
    expect((await getPs(url)).queues).toEqual([]);
  });

  it("drops requests whose clients give up within moments of sending them", async () => {
    const tokensBefore = await tokensGenerated(cluster, "alpha");
    const running = await ChatStream.open(url, chatBody("alpha", 1000));
    // One after another (the queue holds two), each abandoned a few ms after it was sent: the
    // client may be gone before the gateway has even finished queueing the job. (These delays are
    // the scenario, when the client gives up; nothing here waits for the system.)
    const outcomes: string[] = [];
    for (const delayMs of [0, 3, 8, 15, 30, 60]) {
      const controller = new AbortController();
      const abandoned = chatOnce(url, chatBody("alpha", QUICKLY_ABANDONED_TOKENS), { signal: controller.signal }).then(
        (answer) => `answered ${answer.status}`,
        (error: Error) => error.name,
      );
      await sleep(delayMs);
      controller.abort();
      outcomes.push(await abandoned);
    }
    const lines = await running.ended;
    expect(lines.at(-1)!.line).toMatchObject({ done: true, eval_count: 1000 });
    // None of them runs on the worker for a client that is gone: the probe, sent after them all,
    // runs next, and the worker generated nothing else.
    await probe(url);
    expect((await tokensGenerated(cluster, "alpha")) - tokensBefore, `tokens generated (each abandoned job that ran adds ${QUICKLY_ABANDONED_TOKENS})`).toBe(1000 + PROBE_TOKENS);
    // A request sent while the abandoned one before it still holds its queue place may be
    // refused as queue-full before its own client gives up; it never runs either way.
    for (const outcome of outcomes) expect(["AbortError", "answered 503"]).toContain(outcome);
    expect((await getPs(url)).queues).toEqual([]);
  });
});

describe("queue timeout (1 worker, CARAVAN_NUM_PARALLEL=1, CARAVAN_QUEUE_TIMEOUT=3s)", () => {
  let cluster: ModelsCluster;
  let url: string;
  beforeAll(async () => {
    ({ cluster, url } = await startModelsCluster({ workers: 1, env: { CARAVAN_NUM_PARALLEL: "1", CARAVAN_QUEUE_TIMEOUT: "3s" } }));
    // Loaded first: the 3 s are for waiting behind a running request, and a cold load (a runner
    // to fork, the model to read) on a busy 2-core machine can take that long by itself. A load
    // that outlasts the gateway's wait still completes on the worker, so asking again succeeds.
    await pollUntil(() => postJson(`${url}/api/chat`, { model: "alpha", messages: [] }).then((r) => r.status), (status) => status === 200, 60_000, "alpha loaded", 500);
  });
  afterAll(async () => cluster?.stop());

  it("answers 503 naming the model when a request waits past the timeout; the running one completes", async () => {
    const tokensBefore = await tokensGenerated(cluster, "alpha");
    const timedOut = { ...modelLabel("alpha"), error_type: "queue_timeout" };
    const metrics = `${url}/metrics`;
    const timedOutBefore = await metricAt(metrics, "caravan_errors_total", timedOut);
    // 1500 tokens: several seconds on this machine, well past the 3 s the next requests may wait.
    const running = await ChatStream.open(url, chatBody("alpha", 1500));
    const [late, lateStream] = await Promise.all([
      chatOnce(url, chatBody("alpha", 16)),
      postJson(`${url}/api/chat`, chatBody("alpha", 16, { stream: true })).then(async (response) => ({ status: response.status, body: (await response.json()) as { error?: string } })),
    ]);
    expect(running.endedAt, "the first request was still running").toBeUndefined();
    for (const answer of [late, lateStream]) {
      expect(answer.status).toBe(503);
      expect(answer.body.error).toMatch(/^no worker could run model 'alpha:latest' within 3s/);
    }
    expect(waitingFor(await getPs(url), "alpha")).toBe(0);
    // The gateway's own account: two queue timeouts, each answered after its wait (none in the
    // request-duration buckets up to 2.5 s, the histogram's nearest bound below the 3 s).
    await pollUntil(() => metricAt(metrics, "caravan_errors_total", timedOut), (n) => n === timedOutBefore + 2, 5000, "two queue timeouts counted");
    expect(await metricAt(metrics, "gen_ai_server_request_duration_seconds_bucket", { ...timedOut, le: "2.5" })).toBe(0);
    expect(await metricAt(metrics, "gen_ai_server_request_duration_seconds_count", timedOut)).toBe(2);

    const lines = await running.ended;
    expect(lines.at(-1)!.line).toMatchObject({ done: true, done_reason: "length", eval_count: 1500 });
    expect(lines.some((l) => "error" in l.line)).toBe(false);
    // the timed-out jobs were taken out of the queue: they never run, the probe runs next
    await probe(url);
    expect((await tokensGenerated(cluster, "alpha")) - tokensBefore, "tokens generated (each timed-out job that ran adds 16)").toBe(1500 + PROBE_TOKENS);
  });
});
