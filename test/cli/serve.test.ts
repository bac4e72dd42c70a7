import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../harness/ports.ts";
import { MODELS_DIR } from "../harness/processes.ts";
import { runCli, TerminalSession } from "./cli-process.ts";

// `caravan serve` is `pnpm start`: it serves, and Ctrl+C at its terminal drains and stops it.
describe("caravan serve", () => {
  const sessions: TerminalSession[] = [];
  afterAll(() => sessions.forEach((s) => s.kill()));

  it("starts the single process from the environment; Ctrl+C drains it and exits 0", async () => {
    const port = await freePort();
    const session = new TerminalSession(["serve"], { CARAVAN_HOST: `127.0.0.1:${port}`, CARAVAN_MODELS: MODELS_DIR, CARAVAN_THREADS: "1", REDIS_URL: "" });
    sessions.push(session);
    await session.waitFor("gateway listening", 0, 90_000);
    const list = await runCli(["list", "--host", `127.0.0.1:${port}`]);
    expect(list.stdout).toContain("stories260k:latest");

    session.write("\u0003");
    expect(await session.exited).toBe(0);
    expect(session.text).toContain("shutting down: draining running requests");
    expect(session.text).toContain("worker stopped");
  });

  it("gateway and worker refuse to start without REDIS_URL", async () => {
    const gateway = await runCli(["gateway"], { env: { REDIS_URL: "" } });
    expect(gateway.code).toBe(2);
    expect(gateway.stderr).toContain("REDIS_URL: required for a separate gateway process");
    const worker = await runCli(["worker"], { env: { REDIS_URL: "" } });
    expect(worker.code).toBe(2);
    expect(worker.stderr).toContain("REDIS_URL: required for a separate worker process");
  });
});
