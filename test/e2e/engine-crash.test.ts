import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisCluster, startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { postJson } from "../harness/ndjson.ts";
import type { CaravanProcess } from "../harness/processes.ts";
import { chatBody, chatOnce, ChatStream, metricAt, modelLabel } from "../harness/scenario.ts";

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
  const loads = () => metricAt(deployment.workerMetricsUrls[deployment.workers.indexOf(worker)]!, "caravan_model_loads_total", modelLabel(TINY));
  const errors = (type: string) => metricAt(`${url}/metrics`, "caravan_errors_total", { ...modelLabel(TINY), error_type: type });
  const before = { loads: await loads(), engine: await errors("engine_error"), lost: await errors("worker_lost") };
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
  // One crash per crashing request, nothing ran twice: the first load and one new runner after
  // each crash (a job submitted again would crash, and load, once more); both counted as engine
  // errors, not as a lost worker.
  expect((await loads()) - before.loads).toBe(3);
  expect((await errors("engine_error")) - before.engine).toBe(2);
  expect((await errors("worker_lost")) - before.lost).toBe(0);
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
      // (the scenario counts the loads and the errors' kinds: an engine error, never a lost worker)
      await crashScenario(deployment, deployment.workers[0]!);
    });
  });
});
