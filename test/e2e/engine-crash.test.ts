import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisCluster, startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { postJson } from "../harness/ndjson.ts";
import type { CaravanProcess } from "../harness/processes.ts";
import { chatBody, chatOnce, ChatStream, logsOf, pollUntil } from "../harness/scenario.ts";

/**
 * A model that crashes the native engine: TinyStories-656K aborts its process (SIGABRT) on `#`.
 * With CARAVAN_ISOLATION at its default (`process`) only that model's runner dies: the request
 * gets a clear error, the caravan process lives on and serves other models and requests, and the
 * next request for the model starts a new runner.
 */
const TINY = "TinyStories-656K-Q8_0";
const CRASH_MESSAGE = "the runner of model 'tinystories-656k-q8_0:latest' crashed (SIGABRT) while generating; it will be restarted for the next request";
const crashBody = () => ({ ...chatBody(TINY, 16), messages: [{ role: "user", content: "# a story" }] });

async function crashScenario(deployment: Deployment, worker: CaravanProcess): Promise<void> {
  const url = deployment.gatewayUrls[0]!;
  // the model is loaded first, so the crash happens in generation, not in a load
  expect(await chatOnce(url, chatBody(TINY, 4))).toMatchObject({ status: 200, body: { done: true } });

  // 1500 tokens: a second or more here, so it is mid-stream when the other model's runner dies
  const other = await ChatStream.open(url, chatBody("stories260K", 1500));
  await other.waitFor((line) => "message" in line, 30_000);
  const started = Date.now();
  const crash = await chatOnce(url, crashBody());
  const answeredAt = Date.now();
  expect(answeredAt - started).toBeLessThan(10_000);
  expect(crash).toMatchObject({ status: 500, body: { error: CRASH_MESSAGE } });
  expect(other.endedAt ?? Infinity, "the stories260K stream was still running at the crash").toBeGreaterThan(answeredAt);

  const lines = await other.ended;
  expect(lines.filter((l) => "error" in l.line)).toEqual([]);
  expect(lines.at(-1)!.line).toMatchObject({ done: true, eval_count: 1500 });

  // streamed: the crash comes before any text, so the gateway still answers with a status
  const streamed = await postJson(`${url}/api/chat`, { ...crashBody(), stream: true });
  expect({ status: streamed.status, body: await streamed.json() }).toEqual({ status: 500, body: { error: CRASH_MESSAGE } });

  expect(worker.child.exitCode).toBeNull();
  expect(await chatOnce(url, chatBody("stories260K", 8))).toMatchObject({ status: 200, body: { done: true, eval_count: 8 } });
  const again = await chatOnce(url, chatBody(TINY, 8));
  expect(again).toMatchObject({ status: 200, body: { done: true } });
  expect((again.body.message as { content: string }).content.length).toBeGreaterThan(0);
  expect(worker.child.exitCode).toBeNull();
  // one crash per crashing request: nothing ran twice
  expect(await pollUntil(async () => logsOf(worker, "runner crashed", TINY).length, (n) => n >= 2, 3000, "crash log lines")).toBe(2);
}

describe("a model that crashes the native engine", () => {
  describe("single process (pnpm start)", () => {
    let deployment: Deployment;
    beforeAll(async () => void (deployment = await startSingleProcess()));
    afterAll(async () => deployment?.stop());

    it("fails that request clearly and keeps serving, that model included", async () => {
      await crashScenario(deployment, deployment.workers[0]!);
    });
  });

  describe("over Redis (1 gateway, 1 worker)", () => {
    let deployment: Awaited<ReturnType<typeof startRedisCluster>>;
    beforeAll(async () => void (deployment = await startRedisCluster({ gateways: 1, workers: 1 })));
    afterAll(async () => deployment?.stop());

    it("fails that request clearly, keeps the worker, and does not submit the job again", async () => {
      const worker = deployment.workers[0]!;
      await crashScenario(deployment, worker);
      // an engine error, not a lost worker
      expect(deployment.gateways[0]!.logs.filter((l) => l.msg === "worker lost before any text: submitting the job again")).toEqual([]);
      expect(logsOf(worker, "generation failed", TINY)).toHaveLength(2);
    });
  });
});
