import { startRedisServer, type LocalRedis } from "@caravan/cli";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisCluster } from "../harness/cluster.ts";
import { ndjsonLines, postJson } from "../harness/ndjson.ts";
import { chatOnce, generationEnded, sleep, tokensGenerated } from "../harness/scenario.ts";

// Redis goes away and comes back (empty, as a restarted redis-server without persistence):
// requests meanwhile get a quick 503, a stream that was running ends with an error line, and
// within seconds of Redis's return the same gateway and worker processes serve again.
describe("a Redis restart", () => {
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
  let revived: LocalRedis | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster({ gateways: 1, workers: 1 });
  });
  afterAll(async () => {
    await cluster?.stop();
    await revived?.stop();
  });
  const chat = (numPredict: number) => chatOnce(cluster.gatewayUrls[0]!, { model: "stories260K", messages: [{ role: "user", content: "Hi" }], stream: false, options: { num_predict: numPredict } });

  it("503s quickly while it is down, ends a running stream with an error, and serves again within 5 s of its return", async () => {
    // the gateway sees the worker's first heartbeat within a second or two of starting
    await expect.poll(async () => (await chat(4)).status, { timeout: 10_000, interval: 200 }).toBe(200);

    // a long stream (about 4000 tokens unless stopped) is running when Redis goes away
    const before = await tokensGenerated(cluster, "stories260K");
    const response = await postJson(`${cluster.gatewayUrls[0]}/api/chat`, { model: "stories260K", messages: [{ role: "user", content: "Once upon a time" }], options: { temperature: 0, num_ctx: 4096 } });
    const lines = ndjsonLines(response);
    expect((await lines.next()).value).toMatchObject({ done: false });
    const downAt = Date.now();
    await cluster.redis.stop();

    let last: Record<string, unknown> | undefined;
    for await (const line of lines) last = line;
    expect(last).toEqual({ error: "lost the connection to Redis while the request ran; try again" });
    expect(Date.now() - downAt, "the stream's end after Redis stopped").toBeLessThan(5000);
    // the worker stopped generating for it too (its /metrics do not need Redis)
    expect(await generationEnded(cluster, "stories260K", before, 5000)).toBeLessThan(3000);

    for (let i = 0; i < 3; i++) {
      const startedAt = Date.now();
      const refused = await chat(4);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("2");
      expect(String(refused.body.error)).toMatch(/Redis is unreachable/);
      expect(Date.now() - startedAt).toBeLessThan(3000);
      await sleep(300);
    }

    revived = await startRedisServer({ port: cluster.redis.port });
    const backAt = Date.now();
    let answer: Awaited<ReturnType<typeof chat>> | undefined;
    while (Date.now() - backAt < 5000) {
      answer = await chat(4);
      if (answer.status === 200) break;
      await sleep(200);
    }
    expect(answer?.status, JSON.stringify(answer?.body)).toBe(200);
    expect(answer?.body).toMatchObject({ done: true, eval_count: 4 });
    expect(Date.now() - backAt, "serving again after Redis returned").toBeLessThan(5000);
    // and keeps serving
    expect((await chat(3)).body).toMatchObject({ eval_count: 3 });
  });
});
