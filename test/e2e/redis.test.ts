import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisCluster } from "../harness/cluster.ts";
import { postJson } from "../harness/ndjson.ts";
import { modelLabel, workerMetric } from "../harness/scenario.ts";
import { chatSuite, MODEL } from "./chat-suite.ts";

chatSuite("caravan over Redis (start:gateway + start:worker)", () => startRedisCluster({ gateways: 1, workers: 1 }));

describe("two gateways and two workers on one Redis", () => {
  const REQUESTS = 16;
  const TOKENS = 400;
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
  beforeAll(async () => {
    // No backlog allowance: a request that finds no free sequence makes a second copy load.
    cluster = await startRedisCluster({ gateways: 2, workers: 2, env: { CARAVAN_NUM_PARALLEL: "2", CARAVAN_SPILL_BACKLOG: "0" } });
  });
  afterAll(async () => cluster?.stop());

  it("serves requests from both gateways on both workers", async () => {
    // Enough work that the first worker cannot finish it all while the second loads its copy:
    // a load starts a runner process (~0.5–1 s here), and on a quick host 8 requests of 200
    // tokens were done in ~0.5 s, all on the first worker.
    const requests = Array.from({ length: REQUESTS }, (_, i) =>
      postJson(`${cluster.gatewayUrls[i % 2]}/api/chat`, {
        model: MODEL,
        stream: false,
        messages: [{ role: "user", content: `Once upon a time ${i}` }],
        options: { temperature: 0, num_predict: TOKENS },
      }).then(async (response) => ({ status: response.status, body: (await response.json()) as { eval_count: number; done: boolean } })),
    );
    const answers = await Promise.all(requests);
    for (const answer of answers) expect(answer).toMatchObject({ status: 200, body: { done: true, eval_count: TOKENS } });
    // both workers served some: each generated tokens, and all of them between them
    const served = await workerMetric(cluster, "caravan_tokens_generated_total", modelLabel(MODEL));
    expect(served.reduce((a, b) => a + b, 0)).toBe(REQUESTS * TOKENS);
    for (const tokens of served) expect(tokens).toBeGreaterThan(0);
  });
});
