import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { freePort } from "../harness/ports.ts";
import { runCli, TerminalSession } from "./cli-process.ts";

// `caravan run` against a real `pnpm start` process: interactive in a pseudo-terminal (history,
// /clear, Ctrl+C, /bye), and one-shot with an argument or piped input.
const MODEL = "stories260K";
// greedy, short answers: the same messages always get the same answer
const GREEDY = { temperature: 0, seed: 42, num_predict: 12 };
const SPINNER = /^([⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] )+/;

describe("caravan run", () => {
  let deployment: Deployment;
  let host: string;
  const sessions: TerminalSession[] = [];
  // a small context keeps one-shot answers short (stories260K rarely stops by itself)
  beforeAll(async () => {
    deployment = await startSingleProcess({ CARAVAN_CONTEXT_LENGTH: "256" });
    host = deployment.gatewayUrls[0]!;
  });
  afterAll(async () => {
    sessions.forEach((s) => s.kill());
    await deployment?.stop();
  });

  const open = (...args: string[]) => {
    const session = new TerminalSession(["run", MODEL, "--host", host, ...args], { NO_COLOR: "1" });
    sessions.push(session);
    return session;
  };

  /** asks over the API what the CLI should have asked, for comparison */
  const apiAnswer = async (messages: { role: string; content: string }[]) => {
    const response = await fetch(`${host}/api/chat`, { method: "POST", body: JSON.stringify({ model: MODEL, messages, options: GREEDY, stream: false }) });
    return ((await response.json()) as { message: { content: string } }).message.content;
  };

  /** types a message and returns the answer as shown: after the echoed line, before the stats */
  const ask = async (session: TerminalSession, text: string) => {
    const shown = await session.line(text);
    const start = shown.indexOf(`${text}\n`) + text.length + 1;
    const end = shown.indexOf("\n\ntotal duration:");
    expect(end, shown).toBeGreaterThan(start);
    return { answer: shown.slice(start, end).replace(SPINNER, ""), shown };
  };

  it("keeps the history between turns, /clear forgets it, /bye exits 0", async () => {
    const session = open("--verbose");
    await session.waitFor(/>>> $/, 0, 60_000);
    for (const [name, value] of Object.entries(GREEDY)) {
      expect(await session.line(`/set parameter ${name} ${value}`)).toContain(`Set parameter '${name}' to '${value}'`);
    }

    const first = await ask(session, "Once upon a time");
    expect(first.answer).toBe(await apiAnswer([{ role: "user", content: "Once upon a time" }]));
    expect(first.shown).toMatch(/^prompt eval count: +\d+ token\(s\)$/m);

    // the second answer is the one the whole conversation gets, not the one the question alone gets
    const second = await ask(session, "Lily");
    const withHistory = await apiAnswer([
      { role: "user", content: "Once upon a time" },
      { role: "assistant", content: first.answer },
      { role: "user", content: "Lily" },
    ]);
    const alone = await apiAnswer([{ role: "user", content: "Lily" }]);
    expect(withHistory).not.toBe(alone);
    expect(second.answer).toBe(withHistory);

    expect(await session.line("/clear")).toContain("Cleared session context");
    expect((await ask(session, "Lily")).answer).toBe(alone);

    session.write("/bye\r");
    expect(await session.exited).toBe(0);
  });

  it("Ctrl+C stops an answer and keeps the session; at an empty prompt it prints a hint; Ctrl+D exits 0", async () => {
    const session = open("--verbose");
    await session.waitFor(/>>> $/, 0, 60_000);
    await session.line("/set parameter num_ctx 2048");
    await session.line("/set parameter num_predict 2000");
    const from = session.mark();
    session.write("Once upon a time\r");
    // some of the answer is on screen: stop it
    await session.waitFor(/Once upon a time\n(?:[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] )*[^\n⠋]{20}/, from);
    session.write("\u0003");
    const stopped = await session.waitFor(/\n>>> $/, from);
    expect(stopped).not.toContain("total duration:");
    // the generation stopped on the server too
    await expect.poll(async () => ((await (await fetch(`${host}/api/ps`)).json()) as { models: { busy: number }[] }).models[0]?.busy, { timeout: 10_000 }).toBe(0);

    // the session goes on
    await session.line("/set parameter num_predict 4");
    expect(await session.line("Tom")).toMatch(/^eval count: +4 token\(s\)$/m);

    const hint = session.mark();
    session.write("\u0003");
    await session.waitFor("Use Ctrl + d or /bye to exit.\n>>> ", hint);

    session.write("\u0004");
    expect(await session.exited).toBe(0);
  });

  it('takes a multi-line message between """, and a pasted block as one message', async () => {
    const session = open();
    await session.waitFor(/>>> $/, 0, 60_000);
    await session.line("/set parameter num_predict 4");
    const from = session.mark();
    session.write('"""Once upon\r');
    await session.waitFor(/\n\.\.\. $/, from);
    session.write('a time"""\r');
    await session.waitFor(/a time"""\n[^]*\n\n>>> $/, from);

    await session.line("/set verbose");
    const pasted = session.mark();
    session.write("\u001b[200~Once upon a time\rthere was a dog\u001b[201~\r");
    await session.waitFor(/eval rate:.*\n>>> $/, pasted);
    // lines are handled in order: had the paste been two messages, both answers would precede this
    await session.line("/set quiet");
    expect(session.since(pasted).match(/total duration:/g)).toHaveLength(1);
    session.write("/bye\r");
    expect(await session.exited).toBe(0);
  });

  it("answers once with a prompt argument, and once from piped input, with --verbose stats", async () => {
    const once = await runCli(["run", MODEL, "Once upon a time", "--host", host, "--verbose"]);
    expect(once.stderr).toMatch(/^total duration: +[\d.]+(ns|µs|ms|s)$|^total duration: +\d+m[\d.]+s$/m);
    for (const line of [
      /^prompt eval count: +\d+ token\(s\)$/m,
      /^prompt eval duration: +[\d.]+(ns|µs|ms|s)$/m,
      /^prompt eval rate: +\d+\.\d\d tokens\/s$/m,
      /^eval count: +\d+ token\(s\)$/m,
      /^eval duration: +[\d.]+(ns|µs|ms|s)$/m,
      /^eval rate: +\d+\.\d\d tokens\/s$/m,
    ]) {
      expect(once.stderr).toMatch(line);
    }
    expect(once.code).toBe(0);
    expect(once.stdout.trim().length).toBeGreaterThan(0);
    expect(once.stdout.endsWith("\n\n")).toBe(true);
    // not a terminal: no spinner, no prompt, no escape codes
    expect(once.stdout + once.stderr).not.toMatch(/\u001b|>>> /);

    const piped = await runCli(["run", MODEL, "--host", host], { input: "Once upon a time" });
    expect(piped.code).toBe(0);
    expect(piped.stdout.trim().length).toBeGreaterThan(0);
    expect(piped.stderr).toBe("");
  });

  it("an unknown model or an unreachable host: Error: … on stderr, exit 1", async () => {
    const unknown = await runCli(["run", "no-such-model", "hi", "--host", host]);
    expect(unknown).toMatchObject({ code: 1, stdout: "", stderr: "Error: model 'no-such-model' not found\n" });
    const port = await freePort();
    const nobody = await runCli(["run", MODEL, "hi", "--host", `127.0.0.1:${port}`]);
    expect(nobody).toMatchObject({ code: 1, stdout: "" });
    expect(nobody.stderr).toBe(`Error: could not connect to http://127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port}): is the server running? "caravan serve" starts one; --host points elsewhere\n`);
  });
});
