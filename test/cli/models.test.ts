import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSingleProcess, type Deployment } from "../harness/cluster.ts";
import { freePort } from "../harness/ports.ts";
import { runCli } from "./cli-process.ts";

// list, ps, show and stop against a real `pnpm start` process: Ollama's tables, exit codes, errors.
describe("caravan list, ps, show, stop", () => {
  let deployment: Deployment;
  let host: string;
  beforeAll(async () => {
    deployment = await startSingleProcess();
    host = deployment.gatewayUrls[0]!;
  });
  afterAll(async () => deployment?.stop());

  const cli = (...args: string[]) => runCli([...args, "--host", host]);

  it("list (and ls) prints NAME ID SIZE MODIFIED with human sizes and times; a prefix filters", async () => {
    const { code, stdout, stderr } = await cli("list");
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const lines = stdout.split("\n");
    expect(lines[0]).toMatch(/^NAME +ID +SIZE +MODIFIED +$/);
    const row = lines.find((l) => l.startsWith("stories260k:latest"));
    expect(row).toMatch(/^stories260k:latest +[0-9a-f]{12} +1\.2 MB +(\d+ (seconds|minutes|hours|days|weeks|months|years)|About an? (minute|hour)|Less than a second|1 second) ago +$/);
    // columns line up: every row's ID starts where the header's does
    const idColumn = lines[0]!.indexOf("ID");
    for (const line of lines.slice(1).filter(Boolean)) expect(line.slice(idColumn)).toMatch(/^[0-9a-f]{12} /);

    const filtered = await cli("ls", "STORIES260K-CH");
    expect(filtered.stdout.trim().split("\n").slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["stories260k-chatml:latest"]);
  });

  it("ps shows a loaded model (NAME ID SIZE PROCESSOR CONTEXT UNTIL) and stop unloads it", async () => {
    const load = await fetch(`${host}/api/chat`, { method: "POST", body: JSON.stringify({ model: "stories260K", messages: [], keep_alive: "10m" }) });
    expect(load.status).toBe(200);
    await load.text();
    const ps = await cli("ps");
    expect(ps.code).toBe(0);
    const [header, row] = ps.stdout.split("\n");
    expect(header).toMatch(/^NAME +ID +SIZE +PROCESSOR +CONTEXT +UNTIL +$/);
    expect(row).toMatch(/^stories260k:latest +[0-9a-f]{12} +\d+(\.\d)? [KMG]?B +100% CPU +\d+ +(9|10) minutes from now +$/);

    const stop = await cli("stop", "stories260K");
    expect(stop).toEqual({ code: 0, stdout: "", stderr: "" });
    await expect.poll(async () => (await cli("ps")).stdout.split("\n").filter(Boolean).length, { timeout: 10_000 }).toBe(1);
  });

  it("show prints the model's summary, or one part with a flag", async () => {
    const show = await cli("show", "stories260K");
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^ {2}Model\n {4}architecture +llama +\n {4}parameters +293K +\n {4}context length +\d+ +\n {4}embedding length +64 +\n {4}quantization +F32 +\n\n {2}Capabilities\n {4}completion +\n {4}embedding +\n\n$/);

    const verbose = await cli("show", "stories260K", "--verbose");
    expect(verbose.stdout).toMatch(/^ {2}Metadata\n {4}general\.architecture +llama +$/m);

    const modelfile = await cli("show", "stories260K", "--modelfile");
    expect(modelfile.stdout).toMatch(/^FROM .*stories260K\.gguf$/m);
    const template = await cli("show", "stories260K", "--template");
    expect(template.stdout.length).toBeGreaterThan(0);

    const two = await cli("show", "stories260K", "--template", "--system");
    expect(two).toMatchObject({ code: 1, stderr: "Error: only one of '--license', '--modelfile', '--parameters', '--system', or '--template' can be specified\n" });
  });

  it("an unknown model: Error: model 'x' not found, exit 1 (stop words it as Ollama does)", async () => {
    expect(await cli("show", "nope")).toEqual({ code: 1, stdout: "", stderr: "Error: model 'nope' not found\n" });
    expect(await cli("stop", "nope")).toEqual({ code: 1, stdout: "", stderr: 'Error: couldn\'t find model "nope" to stop\n' });
  });

  it("an unreachable host or a bad one: a clear message, exit 1; a usage error exits 1 as commander does", async () => {
    const port = await freePort();
    const nobody = await runCli(["list", "--host", `127.0.0.1:${port}`]);
    expect(nobody).toMatchObject({ code: 1, stdout: "" });
    expect(nobody.stderr).toContain(`Error: could not connect to http://127.0.0.1:${port} (connect ECONNREFUSED`);
    // the environment is read when --host is absent
    const fromEnv = await runCli(["ps"], { env: { CARAVAN_HOST: "", OLLAMA_HOST: `127.0.0.1:${port}` } });
    expect(fromEnv.stderr).toContain(`could not connect to http://127.0.0.1:${port}`);

    expect(await runCli(["list", "--host", "127.0.0.1:http"])).toMatchObject({ code: 1, stderr: 'Error: invalid host "127.0.0.1:http": port must be a number from 0 to 65535\n' });
    const usage = await runCli(["show"]);
    expect(usage).toMatchObject({ code: 1, stderr: "error: missing required argument 'model'\n" });
  });
});
