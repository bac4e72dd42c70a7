import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeOllamaServer } from "../../apps/cli/src/testing/fake-ollama-server.ts";
import { plain, runCli, TerminalSession } from "./cli-process.ts";

// pull, rm and cp against FakeOllamaServer, a stand-in that speaks Ollama's published API for
// /api/pull, /api/delete and /api/copy: the CLI must work against a real Ollama too, whose pull
// progress (layers, "writing manifest") differs from caravan's. The same commands against caravan
// itself: model-management-caravan.test.ts.
describe("caravan pull, rm, cp (against a FAKE Ollama-API server)", () => {
  const fake = new FakeOllamaServer();
  const sessions: TerminalSession[] = [];
  beforeAll(() => fake.start());
  afterAll(async () => {
    sessions.forEach((s) => s.kill());
    await fake.close();
  });

  const cli = (...args: string[]) => runCli([...args, "--host", fake.url]);

  it("pull streams the progress as plain lines when not on a terminal, and exits 0 on success", async () => {
    const pull = await cli("pull", "tiny");
    expect(pull).toEqual({
      code: 0,
      stdout: "",
      stderr: [
        "pulling manifest",
        "pulling ab12cd34ef56: 25% (1 MB/4 MB)",
        "pulling ab12cd34ef56: 50% (2 MB/4 MB)",
        "pulling ab12cd34ef56: 75% (3 MB/4 MB)",
        "pulling ab12cd34ef56: 100% (4 MB/4 MB)",
        "verifying sha256 digest",
        "writing manifest",
        "success",
        "",
      ].join("\n"),
    });
    expect(fake.requests.at(-1)).toEqual({ method: "POST", path: "/api/pull", body: { model: "tiny", insecure: false, stream: true } });
    expect((await cli("list")).stdout).toMatch(/^tiny:latest +f{12} +4 MB /m);
  });

  it("pull draws Ollama's bar on a terminal", async () => {
    fake.stepDelayMs = 150;
    try {
      const session = new TerminalSession(["pull", "tiny-two", "--host", fake.url]);
      sessions.push(session);
      expect(await session.exited).toBe(0);
      const screen = plain(session.text);
      expect(screen).toMatch(/pulling manifest ⠋ /);
      expect(screen).toMatch(/pulling ab12cd34ef56: +50% ▕█+ +▏ +2 MB\/ +4 MB/);
      expect(screen).toMatch(/pulling ab12cd34ef56: 100% ▕█+▏ +4 MB +\n/);
      expect(screen).toMatch(/success $/m);
    } finally {
      fake.stepDelayMs = 0;
    }
  });

  it("pull fails with the server's message and exit 1", async () => {
    const pull = await cli("pull", "missing-model");
    expect(pull.code).toBe(1);
    expect(pull.stderr).toBe("pulling manifest\nError: pull model manifest: file does not exist\n");
  });

  it("cp copies; a missing source is Error: …, exit 1", async () => {
    expect(await cli("cp", "tiny", "tiny-backup")).toEqual({ code: 0, stdout: "copied 'tiny' to 'tiny-backup'\n", stderr: "" });
    expect(fake.requests.at(-1)?.body).toEqual({ source: "tiny", destination: "tiny-backup" });
    expect(await cli("cp", "nothing", "x")).toEqual({ code: 1, stdout: "", stderr: "Error: model 'nothing' not found\n" });
  });

  it("rm unloads, then deletes each model; an unknown one stops it with exit 1", async () => {
    expect(await cli("rm", "tiny", "tiny-backup")).toEqual({ code: 0, stdout: "deleted 'tiny'\ndeleted 'tiny-backup'\n", stderr: "" });
    const sent = fake.requests.slice(-4).map((r) => `${r.method} ${r.path} ${JSON.stringify(r.body)}`);
    expect(sent).toEqual([
      'POST /api/chat {"model":"tiny","messages":[],"keep_alive":0,"stream":true}',
      'DELETE /api/delete {"model":"tiny"}',
      'POST /api/chat {"model":"tiny-backup","messages":[],"keep_alive":0,"stream":true}',
      'DELETE /api/delete {"model":"tiny-backup"}',
    ]);
    expect(await cli("rm", "tiny")).toEqual({ code: 1, stdout: "", stderr: "Error: model 'tiny' not found\n" });
  });

  it("a server without these endpoints: the error names what is missing", async () => {
    const { code, stderr } = await cli("ps");
    expect(code).toBe(1);
    expect(stderr).toBe(`Error: the server at ${fake.url} does not have GET /api/ps (404 page not found)\n`);
  });
});
