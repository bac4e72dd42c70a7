import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { estimateModelBytes, scanModels } from "@caravan/worker";
import { startRedisCluster, startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { postJson } from "../harness/ndjson.ts";
import { MODELS_DIR } from "../harness/processes.ts";
import { RssWatch } from "../harness/rss.ts";
import { chatBody, chatOnce, copiesOf, waitForPs } from "../harness/scenario.ts";

/**
 * Load-time options a client can send (num_ctx, num_batch) are bounded before anything is
 * allocated: one request cannot make a worker's runner allocate what the machine does not have
 * (num_ctx 1e12 once took 22 GB), nor hang the model for everyone else. Real processes, the real
 * engine on stories260K (trained on 2048 tokens).
 */

const MiB = 1024 * 1024;
/** about 300 tokens of stories260K's vocabulary */
const LONG_TEXT = "Once upon a time there was a little girl named Lily who liked to play in the park. ".repeat(16);

/** Normal requests, one after another, until stop(): each one's status and content. */
function normalTraffic(url: string) {
  const answers: { status: number; content: string; at: number }[] = [];
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      const { status, body } = await chatOnce(url, chatBody("stories260K", 8));
      answers.push({ status, content: (body.message as { content?: string } | undefined)?.content ?? JSON.stringify(body), at: performance.now() });
    }
  })();
  return {
    answers,
    async stop() {
      stopped = true;
      await running;
      return answers;
    },
  };
}

async function generateOnce(url: string, body: Record<string, unknown>) {
  const response = await postJson(`${url}/api/generate`, { stream: false, ...body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("hostile load options on `pnpm start` (one process, runner processes, a 1 GiB budget)", () => {
  const BUDGET = 1024 * MiB;
  let deployment: Deployment;
  let url: string;
  beforeAll(async () => {
    deployment = await startSingleProcess({ CARAVAN_MEMORY_BUDGET: "1GiB" });
    url = deployment.gatewayUrls[0]!;
  });
  afterAll(async () => deployment?.stop());

  it("clamps num_ctx and num_batch, truncates a prompt longer than a small num_ctx, and keeps serving everyone, within the budget", async () => {
    expect(await chatOnce(url, chatBody("stories260K", 4))).toMatchObject({ status: 200 }); // warm
    const rss = new RssWatch(deployment.workers[0]!.child.pid!);
    const traffic = normalTraffic(url);
    const startedAt = performance.now();

    // Each distinct load setting reloads the model (as in Ollama), so the small-context requests go together.
    const small = { temperature: 0, num_predict: 8, num_ctx: 64 };
    const [ctxHuge, batchHuge, ctxNegative] = [
      await chatOnce(url, chatBody("stories260K", 8, { options: { temperature: 0, num_predict: 8, num_ctx: 1e12 } })),
      await chatOnce(url, chatBody("stories260K", 8, { options: { temperature: 0, num_predict: 8, num_batch: 1e9 } })),
      await chatOnce(url, chatBody("stories260K", 8, { options: { temperature: 0, num_predict: 8, num_ctx: -5 } })),
    ];
    const [ctxSmallChat, ctxSmallGenerate, ctxSmallRaw] = await Promise.all([
      chatOnce(url, { model: "stories260K", messages: [{ role: "user", content: LONG_TEXT }], options: small }),
      generateOnce(url, { model: "stories260K", prompt: LONG_TEXT, options: small }),
      generateOnce(url, { model: "stories260K", prompt: LONG_TEXT, raw: true, options: small }),
    ]);
    const hostile = { ctxHuge, batchHuge, ctxNegative, ctxSmallChat, ctxSmallGenerate, ctxSmallRaw };
    const endedAt = performance.now();
    const normal = await traffic.stop();
    await rss.stop();

    for (const [name, answer] of Object.entries(hostile)) {
      expect({ name, status: answer.status }).toEqual({ name, status: 200 });
      expect(answer.body).toMatchObject({ done: true, eval_count: 8 });
      const text = (answer.body.message as { content?: string } | undefined)?.content ?? (answer.body.response as string);
      expect(text.length, name).toBeGreaterThan(0);
    }
    // the long prompt did not fit a 256-token context (64, rounded up by llama.cpp): it was cut, not refused
    expect(hostile.ctxSmallChat.body.prompt_eval_count as number).toBeLessThanOrEqual(256);

    // Everyone else was answered, during the hostile requests too.
    expect(normal.length).toBeGreaterThan(0);
    for (const answer of normal) expect(answer).toMatchObject({ status: 200, content: expect.stringMatching(/\S/) });
    expect(normal.some((a) => a.at > startedAt && a.at < endedAt)).toBe(true);

    // The worker and each of its runners stayed under the budget the whole time.
    expect(rss.peaks.size).toBeGreaterThanOrEqual(2); // the process and at least one runner
    expect(rss.highest).toBeLessThan(BUDGET);

    // The clamp was logged, as Ollama warns (the warning line is the feature: no endpoint reports it).
    const warning = await deployment.workers[0]!.waitForLog((l) => l.option === "num_ctx" && l.asked === 1e12, 5000);
    expect(warning).toMatchObject({ level: 40, used: 2048, model: "stories260k:latest" }); // pino's warn
  });

  it("/api/ps shows the context the copy was loaded with after a num_ctx reload", async () => {
    expect(await chatOnce(url, chatBody("stories260K", 4, { options: { temperature: 0, num_predict: 4, num_ctx: 1024 } }))).toMatchObject({ status: 200 });
    const ps = await waitForPs(url, (p) => copiesOf(p, "stories260K")[0]?.context_length === 1024, 5000, "context_length 1024 in /api/ps");
    expect(copiesOf(ps, "stories260K")).toHaveLength(1);
  });
});

describe("a load that does not fit the worker's memory budget (1 gateway, 1 worker over Redis)", () => {
  let deployment: Deployment;
  let url: string;
  let budget: number;
  beforeAll(async () => {
    // A budget between stories260K's estimate at the default context (256 here) and at 2048.
    const entry = (await scanModels(MODELS_DIR)).find((e) => e.name === "stories260k:latest")!;
    const [small, large] = [estimateModelBytes(entry, 256, 4), estimateModelBytes(entry, 2048, 4)];
    expect(large).toBeGreaterThan(small);
    budget = Math.floor((small + large) / 2);
    deployment = await startRedisCluster({ gateways: 1, workers: 1, env: { CARAVAN_MEMORY_BUDGET: String(budget), CARAVAN_CONTEXT_LENGTH: "256" } });
    url = deployment.gatewayUrls[0]!;
  });
  afterAll(async () => deployment?.stop());

  it("is refused with a 400 naming the option and the budget, warm or cold, while normal requests go on", async () => {
    expect(await chatOnce(url, chatBody("stories260K", 4))).toMatchObject({ status: 200 }); // warm, at the default context
    const traffic = normalTraffic(url);

    const tooLarge = { temperature: 0, num_predict: 8, num_ctx: 2048 };
    const warm = await chatOnce(url, chatBody("stories260K", 8, { options: tooLarge }));
    const cold = await chatOnce(url, chatBody("stories260K-chatml", 8, { options: tooLarge }));
    const load = await chatOnce(url, { model: "stories260K", messages: [], options: { num_ctx: 2048 } });
    const clamped = await chatOnce(url, chatBody("stories260K", 8, { options: { ...tooLarge, num_ctx: 1e12 } }));
    const normal = await traffic.stop();

    for (const answer of [warm, cold, load, clamped]) {
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatch(/with num_ctx 2048 for 4 sequence\(s\) \(CARAVAN_NUM_PARALLEL\) needs about [\d.]+ MiB, more than this worker's memory budget of [\d.]+ MiB \(CARAVAN_MEMORY_BUDGET\)/);
    }
    expect(cold.body.error).toContain("stories260k-chatml:latest");

    expect(normal.length).toBeGreaterThan(0);
    for (const answer of normal) expect(answer).toMatchObject({ status: 200, content: expect.stringMatching(/\S/) });
    // nothing was reloaded or unloaded for the refused requests: the copy keeps its context
    const ps = await waitForPs(url, (p) => copiesOf(p, "stories260K").length === 1, 5000, "stories260K loaded");
    expect(copiesOf(ps, "stories260K")[0]).toMatchObject({ context_length: 256 });
    expect(copiesOf(ps, "stories260K-chatml")).toHaveLength(0);
  });
});
