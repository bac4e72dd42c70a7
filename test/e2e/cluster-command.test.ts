import { spawn } from "node:child_process";
import net from "node:net";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { CLI_BIN } from "@caravan/cli";
import { alive } from "../../apps/worker/src/testing/alive.ts";
import { freePort } from "../harness/ports.ts";
import { MODELS_DIR, ROOT } from "../harness/processes.ts";

// `pnpm cluster` (`caravan cluster`) as a developer runs it: a private redis-server, a gateway and
// two workers as child processes, their output prefixed, SIGINT stopping all of them cleanly.

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });

describe("caravan cluster", () => {
  const children: ReturnType<typeof spawn>[] = [];
  afterAll(() => children.forEach((c) => c.exitCode === null && c.kill("SIGKILL")));

  it("starts Redis, a gateway and two workers that serve; Ctrl+C drains and stops every process", async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    const child = spawn(process.execPath, [CLI_BIN, "cluster", "--workers", "2", "--host", `127.0.0.1:${port}`, "--models", MODELS_DIR, "--metrics-port", String(metricsPort)], {
      cwd: ROOT,
      env: { ...process.env, CARAVAN_THREADS: "1", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (output += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

    // both workers register (their "worker ready" lines), then a chat goes through the gateway
    await expect.poll(() => (output.match(/^\[worker-\d\] .*worker ready/gm) ?? []).length, { timeout: 60_000, interval: 200 }).toBe(2);
    await expect.poll(() => /^\[gateway \] .*gateway listening/m.test(output), { timeout: 30_000 }).toBe(true);
    // the gateway's view of the workers refreshes every second
    await expect
      .poll(async () => ((await (await fetch(`http://127.0.0.1:${port}/api/tags`)).json()) as { models: unknown[] }).models.length, { timeout: 10_000 })
      .toBeGreaterThan(0);
    const response = await fetch(`http://127.0.0.1:${port}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ model: "stories260K", messages: [{ role: "user", content: "Hi" }], stream: false, options: { num_predict: 4 } }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ done: true, eval_count: 4 });
    const redisPort = Number(/Redis redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
    expect(await portOpen(redisPort)).toBe(true);

    child.kill("SIGINT");
    expect(await exited).toBe(0);
    // every process said goodbye, in order: workers drained before Redis went away
    expect(output).toMatch(/^\[worker-1\] .*worker stopped/m);
    expect(output).toMatch(/^\[worker-2\] .*worker stopped/m);
    expect(output.indexOf("Redis is now ready to exit")).toBeGreaterThan(output.lastIndexOf("worker stopped"));
    expect(await portOpen(port)).toBe(false);
    expect(await portOpen(redisPort)).toBe(false);
  });

  it("leaves no gateway or worker behind when it is killed outright (SIGKILL)", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI_BIN, "cluster", "--workers", "1", "--host", `127.0.0.1:${port}`, "--models", MODELS_DIR, "--metrics-port", "0", "--json-logs"], {
      cwd: ROOT,
      env: { ...process.env, CARAVAN_THREADS: "1", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (output += d));
    await expect.poll(() => /worker ready/.test(output) && /gateway listening/.test(output), { timeout: 60_000, interval: 200 }).toBe(true);
    const pids = [...new Set([...output.matchAll(/"pid":(\d+)/g)].map((m) => Number(m[1])))];
    expect(pids).toHaveLength(2); // the gateway and the worker
    child.kill("SIGKILL");
    // its children see their stdin close and drain; the gateway's port closes
    await expect.poll(() => portOpen(port), { timeout: 15_000, interval: 200 }).toBe(false);
    await expect.poll(() => pids.filter(alive), { timeout: 15_000, interval: 200 }).toEqual([]);
    // The private redis-server cannot notice its parent's death (documented): stop it here.
    const redisPort = Number(/Redis redis:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
    const redis = new Redis(redisPort, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
    await redis.call("SHUTDOWN", "NOSAVE").catch(() => undefined); // the connection closes as it shuts down
    redis.disconnect();
    await expect.poll(() => portOpen(redisPort), { timeout: 5000 }).toBe(false);
  });

  it("refuses a bad option with a clear message and exit code 1", async () => {
    const child = spawn(process.execPath, [CLI_BIN, "cluster", "--workers", "zero"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain("option '-w, --workers <n>' argument 'zero' is invalid. must be a positive integer");
  });
});
