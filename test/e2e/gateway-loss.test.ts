import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisCluster } from "../harness/cluster.ts";
import { ndjsonLines, postJson } from "../harness/ndjson.ts";
import { chatOnce, generationEnded, tokensGenerated } from "../harness/scenario.ts";

// A gateway killed mid-stream: the worker notices that nobody listens to the job any more (its
// next chunk reaches no subscriber) and stops generating; the other gateway keeps serving.
describe("a gateway dies mid-stream", () => {
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
  beforeAll(async () => {
    cluster = await startRedisCluster({ gateways: 2, workers: 1 });
  });
  afterAll(async () => cluster?.stop());

  it("stops its job on the worker within seconds; the other gateway keeps serving", async () => {
    const [doomed, survivor] = cluster.gatewayUrls as [string, string];
    const before = await tokensGenerated(cluster, "stories260K");
    // ~4000 tokens if nothing stops it (num_ctx 4096, no num_predict)
    const response = await postJson(`${doomed}/api/chat`, { model: "stories260K", messages: [{ role: "user", content: "Once upon a time" }], options: { temperature: 0, num_ctx: 4096 } });
    const lines = ndjsonLines(response);
    expect((await lines.next()).value).toMatchObject({ done: false });
    cluster.gateways[0]!.child.kill("SIGKILL");
    await lines.return?.(undefined).catch(() => undefined);

    // It ends on the worker after a fraction of the ~4000 tokens it would otherwise make (a bound
    // in tokens: a few hundred a second here, so within seconds, on a slow machine as on a fast one).
    expect(await generationEnded(cluster, "stories260K", before, 10_000)).toBeLessThan(1000);

    const after = await chatOnce(survivor, { model: "stories260K", messages: [{ role: "user", content: "Hi" }], stream: false, options: { num_predict: 5 } });
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ done: true, eval_count: 5 });
  });
});
