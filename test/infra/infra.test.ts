import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { DCLinter } from "dclint";
import { validate as validateDockerfile } from "dockerfile-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { CLI_BIN, SERVER_ENTRY, serverCommand } from "@caravan/cli";

// Offline validation of infra/ and docker-compose.yml (no Docker engine is needed): the compose
// file against the Compose spec (dclint) and Debian's docker-compose 1.29 when installed, every
// Dockerfile with dockerfile-utils, and the files they name against the repository: install and
// start commands, mounted configs, Prometheus targets, the collector's pipelines, Grafana's
// provisioning and the dashboard's metric names.

const ROOT = path.resolve(import.meta.dirname, "../..");
const at = (...parts: string[]) => path.join(ROOT, ...parts);
const read = (...parts: string[]) => fs.readFileSync(at(...parts), "utf8");
const yamlFile = (...parts: string[]) => parseYaml(read(...parts)) as any;

/** The Prometheus names the dashboard may query (OTel instruments as @opentelemetry/exporter-prometheus names them). */
const HISTOGRAMS = [
  "gen_ai_server_time_to_first_token_seconds",
  "gen_ai_server_time_per_output_token_seconds",
  "gen_ai_server_request_duration_seconds",
  "gen_ai_client_token_usage",
  "caravan_queue_wait_seconds",
  "caravan_model_load_duration_seconds",
];
const OTHERS = [
  "caravan_queue_depth",
  "caravan_requests_rejected_total",
  "caravan_errors_total",
  "caravan_model_loads_total",
  "caravan_models_loaded",
  "caravan_sequences_busy",
  "caravan_sequences_free",
  "caravan_tokens_generated_total",
];
const METRIC_BASES = new Set([...HISTOGRAMS, ...OTHERS]);
const SERIES = new Set([...OTHERS, ...HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`])]);
const LABELS = new Set([
  "gen_ai_request_model",
  "gen_ai_operation_name",
  "gen_ai_token_type",
  "error_type",
  "caravan_reject_reason",
  "caravan_worker_id",
]);

const compose = yamlFile("docker-compose.yml");
const services: Record<string, any> = compose.services;
const DOCKERFILES = ["gateway", "worker", "worker-cuda"].map((name) => `infra/${name}.Dockerfile`);

// ---------------------------------------------------------------------------------------------
// A small Dockerfile reader: instructions with continuations joined, grouped by stage.

interface Instruction {
  keyword: string;
  args: string;
}
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let current = "";
  for (const line of text.split("\n")) {
    if (current === "" && /^\s*(#|$)/.test(line)) continue;
    if (/^\s*#/.test(line)) continue; // comments inside a continued instruction
    if (line.endsWith("\\")) {
      current += line.slice(0, -1) + " ";
      continue;
    }
    current += line;
    const match = /^\s*(\w+)\s+([\s\S]*)$/.exec(current);
    if (match) out.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim() });
    current = "";
  }
  return out;
}
function stages(text: string): { from: string; name: string | undefined; steps: Instruction[] }[] {
  const result: { from: string; name: string | undefined; steps: Instruction[] }[] = [];
  for (const step of instructions(text)) {
    if (step.keyword === "FROM") {
      const [from, as, name] = step.args.split(/\s+/);
      result.push({ from: from!, name: as?.toUpperCase() === "AS" ? name : undefined, steps: [] });
    } else result.at(-1)?.steps.push(step);
  }
  return result;
}
const last = (steps: Instruction[], keyword: string) => steps.filter((s) => s.keyword === keyword).at(-1);
const jsonForm = (args: string): string[] => JSON.parse(args) as string[];
/** ENV KEY=VALUE pairs of a stage (values without spaces or quotes, as these files write them). */
function envOf(steps: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of steps.filter((x) => x.keyword === "ENV")) for (const [, k, v] of s.args.matchAll(/(\w+)=(\S+)/g)) env[k!] = v!;
  return env;
}

/** Every workspace package's folder, from pnpm-workspace.yaml's globs (`dir/*` or `dir`). */
function workspacePackages(): string[] {
  const globs: string[] = yamlFile("pnpm-workspace.yaml").packages;
  return globs.flatMap((glob) => {
    if (glob.endsWith("/*")) {
      const dir = glob.slice(0, -2);
      return fs
        .readdirSync(at(dir), { withFileTypes: true })
        .filter((e) => e.isDirectory() && fs.existsSync(at(dir, e.name, "package.json")))
        .map((e) => `${dir}/${e.name}`);
    }
    return fs.existsSync(at(glob, "package.json")) ? [glob] : [];
  });
}

// ---------------------------------------------------------------------------------------------

describe("docker-compose.yml", () => {
  it("passes dclint (Compose spec schema and its rules; `name:` is left out for docker-compose 1.29)", () => {
    const linter = new DCLinter({ rules: { "require-project-name-field": 0 }, quiet: true, debug: false, exclude: [] });
    const [result] = linter.lintFiles([at("docker-compose.yml")], false);
    expect(result?.messages.map((m: { line: number; rule: string; message: string }) => `${m.line}: ${m.rule}: ${m.message}`)).toEqual([]);
    expect(result?.errorCount).toBe(0);
  });

  it("dclint rejects a compose file that breaks the schema (the check can fail)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "caravan-infra-"));
    const bad = path.join(dir, "docker-compose.yml");
    fs.writeFileSync(bad, "services:\n  worker:\n    image: caravan\n    deploy:\n      resources:\n        reservations:\n          devices: nvidia\n");
    const linter = new DCLinter({ rules: { "require-project-name-field": 0 }, quiet: true, debug: false, exclude: [] });
    expect(linter.lintFiles([bad], false)[0]?.errorCount).toBeGreaterThan(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const dockerCompose = spawnSync("docker-compose", ["version", "--short"], { encoding: "utf8" });
  it.skipIf(dockerCompose.status !== 0)("is valid for docker-compose 1.29 `config -q`, with and without the gpu profile (skipped where docker-compose could not be installed)", () => {
    for (const args of [["config", "-q"], ["--profile", "gpu", "config", "-q"]]) {
      const run = spawnSync("docker-compose", args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, COMPOSE_PROJECT_NAME: "caravan" } });
      expect({ args, status: run.status, stderr: run.stderr.trim() }).toEqual({ args, status: 0, stderr: "" });
    }
    const services = spawnSync("docker-compose", ["--profile", "gpu", "config", "--services"], { cwd: ROOT, encoding: "utf8" }).stdout;
    expect(services.split("\n").filter(Boolean).sort()).toEqual(Object.keys(compose.services).sort());
    // and docker-compose does reject what it cannot read (the top-level `name:` of newer Compose)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "caravan-infra-"));
    fs.writeFileSync(path.join(dir, "docker-compose.yml"), "name: caravan\nservices:\n  redis:\n    image: redis:7-alpine\n");
    expect(spawnSync("docker-compose", ["config", "-q"], { cwd: dir, encoding: "utf8" }).status).not.toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("has the whole stack, and no top-level `name:` or `version:`", () => {
    expect(Object.keys(services).sort()).toEqual(["gateway", "grafana", "jaeger", "otel-collector", "prometheus", "redis", "worker", "worker-cuda"]);
    expect(compose.name).toBeUndefined();
    expect(compose.version).toBeUndefined();
  });

  it("builds every caravan image from an existing Dockerfile, with the repository as context", () => {
    const built = Object.entries(services).filter(([, s]) => s.build);
    expect(built.map(([name]) => name).sort()).toEqual(["gateway", "worker", "worker-cuda"]);
    for (const [name, s] of built) {
      expect(s.build.context, name).toBe(".");
      expect(DOCKERFILES, name).toContain(s.build.dockerfile);
    }
  });

  it("lets workers scale: no container_name, no host ports; one models folder shared read-write (pull, copy, delete)", () => {
    for (const name of ["worker", "worker-cuda"]) {
      const s = services[name];
      expect(s.container_name, name).toBeUndefined();
      expect(s.ports, name).toBeUndefined();
      expect(s.volumes, name).toContain("${CARAVAN_MODELS_DIR:-./models}:/models");
      expect(s.environment.CARAVAN_MODELS, name).toBe("/models");
      expect(s.environment.CARAVAN_METRICS_PORT, name).toBe("9464");
      expect(s.expose, name).toEqual(["9464"]);
    }
    expect(Object.values(services).every((s) => s.container_name === undefined)).toBe(true);
  });

  it("puts the CUDA worker behind the gpu profile with an NVIDIA device reservation", () => {
    const cuda = services["worker-cuda"];
    expect(cuda.profiles).toEqual(["gpu"]);
    expect(cuda.environment.CARAVAN_GPU).toBe("cuda");
    expect(cuda.deploy.resources.reservations.devices).toEqual([{ driver: "nvidia", count: "all", capabilities: ["gpu"] }]);
    expect(services.worker.environment.CARAVAN_GPU).toBe("false");
    for (const [name, s] of Object.entries(services)) if (name !== "worker-cuda") expect(s.profiles, name).toBeUndefined();
  });

  it("points caravan at Redis and the collector, with a service name each", () => {
    for (const name of ["gateway", "worker", "worker-cuda"]) {
      const env = services[name].environment;
      expect(env.REDIS_URL, name).toBe("redis://redis:6379");
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe("http://otel-collector:4318");
      expect(env.OTEL_SERVICE_NAME, name).toBe(`caravan-${name}`);
    }
    expect(services.gateway.environment.CARAVAN_HOST).toBe("0.0.0.0:11434");
  });

  it("names only CARAVAN_* variables that caravan reads, and valid CARAVAN_GPU values", () => {
    const sources = ["apps", "packages"].flatMap((dir) =>
      fs
        .readdirSync(at(dir), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts") && !f.includes("node_modules"))
        .map((f) => read(dir, f)),
    );
    const known = new Set(sources.flatMap((text) => [...text.matchAll(/\bCARAVAN_[A-Z_]+\b/g)].map((m) => m[0])));
    const used = new Set<string>();
    for (const s of Object.values(services)) for (const key of Object.keys(s.environment ?? {})) if (key.startsWith("CARAVAN_")) used.add(key);
    for (const file of DOCKERFILES) for (const key of read(file).match(/\bCARAVAN_[A-Z_]+\b/g) ?? []) used.add(key);
    expect([...used].filter((v) => !known.has(v))).toEqual([]);

    const gpuEnum = /CARAVAN_GPU:\s*z\.enum\(\[([^\]]*)\]/.exec(read("apps/worker/src/config.ts"))?.[1];
    const allowed = [...(gpuEnum ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    expect(allowed).toContain("cuda");
    for (const name of ["worker", "worker-cuda"]) expect(allowed, name).toContain(services[name].environment.CARAVAN_GPU);
  });

  it("starts services after what they need, with healthchecks where a condition waits on one", () => {
    const dockerfileHealth = (name: string) => services[name].build && read(services[name].build.dockerfile).includes("HEALTHCHECK");
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, spec] of Object.entries<any>(s.depends_on ?? {})) {
        expect(services[dep], `${name} → ${dep}`).toBeDefined();
        expect(["service_started", "service_healthy"], `${name} → ${dep}`).toContain(spec.condition);
        if (spec.condition === "service_healthy") expect(Boolean(services[dep].healthcheck || dockerfileHealth(dep)), `${name} → ${dep}`).toBe(true);
      }
    }
    expect(services.gateway.depends_on.redis.condition).toBe("service_healthy");
    expect(services.worker.depends_on.redis.condition).toBe("service_healthy");
    for (const name of ["redis", "gateway", "worker", "worker-cuda", "prometheus", "grafana"]) expect(services[name].healthcheck, name).toBeDefined();
    for (const name of ["gateway", "worker", "worker-cuda"]) expect(services[name].healthcheck.test.slice(0, 3)).toEqual(["CMD", "node", "infra/healthcheck.mjs"]);
  });

  it("mounts only configuration files that exist", () => {
    const binds = Object.entries(services).flatMap(([name, s]) =>
      (s.volumes ?? []).filter((v: string) => v.startsWith("./")).map((v: string) => ({ name, source: v.split(":")[0]!, target: v.split(":")[1]! })),
    );
    expect(binds.length).toBeGreaterThanOrEqual(4);
    for (const { name, source } of binds) expect(fs.existsSync(at(source)), `${name}: ${source}`).toBe(true);
    const grafana = binds.filter((b) => b.name === "grafana");
    expect(grafana.map((b) => b.target).sort()).toEqual(["/etc/grafana/provisioning", "/var/lib/grafana/dashboards"]);
    const home = services.grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH as string;
    expect(fs.existsSync(at("infra/grafana/dashboards", path.relative("/var/lib/grafana/dashboards", home)))).toBe(true);
  });

  it("publishes each UI on its usual port (loopback only)", () => {
    const published = Object.fromEntries(Object.entries(services).filter(([, s]) => s.ports).map(([name, s]) => [name, s.ports]));
    expect(published).toEqual({
      gateway: ["127.0.0.1:11434:11434"],
      grafana: ["127.0.0.1:3000:3000"],
      jaeger: ["127.0.0.1:16686:16686"],
      prometheus: ["127.0.0.1:9090:9090"],
    });
  });
});

describe("infra/*.Dockerfile", () => {
  const rootPackage = JSON.parse(read("package.json"));

  it.each(DOCKERFILES)("%s passes dockerfile-utils' validation", (file) => {
    const problems = validateDockerfile(read(file));
    expect(problems.map((p) => `${p.range.start.line + 1}: ${p.message}`)).toEqual([]);
  });

  it("dockerfile-utils reports a broken Dockerfile (the check can fail)", () => {
    const problems = validateDockerfile('FROM\nEXPOSE http\nHEALTHCHECK --interval=often CMD ["node"]\n');
    expect(problems.length).toBeGreaterThanOrEqual(3);
  });

  it.each(DOCKERFILES)("%s installs from the lockfile with the pinned pnpm before copying the sources", (file) => {
    const all = stages(read(file));
    const manifests = all.find((s) => s.name === "manifests")!;
    const deps = all.find((s) => s.name === "deps")!;
    const runtime = all.at(-1)!;
    expect(manifests && deps, file).toBeTruthy();
    // pnpm: the exact version of package.json's packageManager
    const pnpm = deps.steps.find((s) => s.keyword === "RUN" && s.args.startsWith("npm install -g pnpm@"));
    expect(`pnpm@${pnpm?.args.split("pnpm@")[1]}`).toBe(rootPackage.packageManager);
    // deps: only the manifests, then the frozen install
    const installAt = deps.steps.findIndex((s) => s.keyword === "RUN" && s.args === "pnpm install --frozen-lockfile");
    expect(installAt, file).toBeGreaterThan(0);
    expect(deps.steps.slice(0, installAt).filter((s) => s.keyword === "COPY").map((s) => s.args)).toEqual(["--from=manifests /manifests/ ./"]);
    // runtime: dependencies first, sources after (sources change more often)
    const copies = runtime.steps.filter((s) => s.keyword === "COPY").map((s) => s.args);
    expect(copies.slice(-2)).toEqual(["--from=deps /app ./", ". ."]);
  });

  it.each(DOCKERFILES)("%s copies the manifest of every workspace package (and only reads files that exist)", (file) => {
    const manifests = stages(read(file)).find((s) => s.name === "manifests")!;
    const run = manifests.steps.find((s) => s.keyword === "RUN")!.args;
    expect(run).toContain("cp package.json pnpm-lock.yaml pnpm-workspace.yaml /manifests/");
    const find = /find (.+?) -maxdepth (\d+) -name package\.json/.exec(run);
    expect(find, file).not.toBeNull();
    const found = execFileSync("find", [...find![1]!.split(" "), "-maxdepth", find![2]!, "-name", "package.json", "-not", "-path", "*/node_modules/*"], { cwd: ROOT, encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map((p) => path.dirname(p))
      .sort();
    expect(found).toEqual(workspacePackages().sort());
  });

  it.each(DOCKERFILES)("%s starts caravan's server entry with node --import tsx, as a non-root user, with a healthcheck", (file) => {
    const runtime = stages(read(file)).at(-1)!;
    const cmd = jsonForm(last(runtime.steps, "CMD")!.args);
    const kind = file.includes("gateway") ? "gateway" : "worker";
    // what the cluster and the tests run (apps/cli/src/server/entry-point.ts), with node itself as PID 1
    expect(cmd).toEqual(["node", ...serverCommand(kind).args]);
    expect(Object.keys({ ...rootPackage.dependencies, ...rootPackage.devDependencies })).toContain("tsx");
    // the start script of package.json runs the same entry
    expect(rootPackage.scripts[`start:${kind}`]).toBe(`tsx ${SERVER_ENTRY} ${kind}`);
    const user = last(runtime.steps, "USER")?.args;
    expect(user && !["root", "0"].includes(user), `${file}: USER ${user}`).toBe(true);
    const health = runtime.steps.find((s) => s.keyword === "HEALTHCHECK")!.args;
    expect(health).toMatch(/CMD \["node", "infra\/healthcheck\.mjs", "(gateway|worker)"\]$/);
    expect(health.includes('"gateway"')).toBe(file.includes("gateway"));
    expect(fs.existsSync(at("infra/healthcheck.mjs"))).toBe(true);
  });

  it("the CPU worker runs without a GPU; the CUDA worker adds node-llama-cpp's CUDA prebuilts on a CUDA runtime base", () => {
    expect(envOf(stages(read("infra/worker.Dockerfile")).at(-1)!.steps).CARAVAN_GPU).toBe("false");
    const text = read("infra/worker-cuda.Dockerfile");
    const all = stages(text);
    expect(envOf(all.at(-1)!.steps).CARAVAN_GPU).toBe("cuda");
    expect(all.at(-1)!.from).toBe("${CUDA_IMAGE}");
    expect(/ARG CUDA_IMAGE=nvidia\/cuda:1[23]\.[\d.]+-runtime-ubuntu[\d.]+\n/.test(text)).toBe(true);
    // the CUDA packages: removed by the workspace overrides, so installed by the script after pnpm install
    const deps = all.find((s) => s.name === "deps")!.steps;
    const install = deps.findIndex((s) => s.args === "pnpm install --frozen-lockfile");
    const cudaStep = deps.findIndex((s) => s.keyword === "RUN" && s.args === "install-node-llama-cpp-cuda.sh");
    expect(cudaStep).toBeGreaterThan(install);
    expect(deps.some((s) => s.keyword === "COPY" && s.args === "infra/install-node-llama-cpp-cuda.sh /usr/local/bin/")).toBe(true);
    const overrides = yamlFile("pnpm-workspace.yaml").overrides ?? {};
    expect(overrides["@node-llama-cpp/linux-x64-cuda"]).toBe("-");
    // node-llama-cpp of this lockfile still knows both packages, at its own version
    const nlc = JSON.parse(read("apps/worker/node_modules/node-llama-cpp/package.json"));
    expect(nlc.optionalDependencies["@node-llama-cpp/linux-x64-cuda"]).toBe(nlc.version);
    expect(nlc.optionalDependencies["@node-llama-cpp/linux-x64-cuda-ext"]).toBe(nlc.version);
    const script = read("infra/install-node-llama-cpp-cuda.sh");
    expect(script).toContain("for pkg in linux-x64-cuda linux-x64-cuda-ext; do");
    expect(script).toContain("apps/worker/node_modules/node-llama-cpp");
    expect(fs.statSync(at("infra/install-node-llama-cpp-cuda.sh")).mode & 0o111).not.toBe(0);
  });

  it(".dockerignore keeps node_modules, models and .git out of the build context", () => {
    const ignore = read(".dockerignore").split("\n").map((l) => l.trim());
    for (const entry of ["**/node_modules", "**/*.gguf", "models", ".git"]) expect(ignore).toContain(entry);
  });
});

describe("the entry points", () => {
  // package.json and the Dockerfiles cannot import apps/cli/src/server/entry-point.ts, which owns
  // the paths: they name the same two files, and nothing else starts a caravan process.
  const scripts = JSON.parse(read("package.json")).scripts as Record<string, string>;

  it("pnpm start, start:gateway and start:worker run the server entry with their kind", () => {
    expect(fs.existsSync(at(SERVER_ENTRY))).toBe(true);
    expect(scripts.start).toBe(`tsx ${SERVER_ENTRY} serve`);
    expect(scripts["start:gateway"]).toBe(`tsx ${SERVER_ENTRY} gateway`);
    expect(scripts["start:worker"]).toBe(`tsx ${SERVER_ENTRY} worker`);
  });

  it("pnpm caravan and pnpm cluster run the CLI's bin, which is the CLI package's bin", () => {
    expect(fs.existsSync(at(CLI_BIN))).toBe(true);
    expect(scripts.caravan).toBe(`node ${CLI_BIN}`);
    expect(scripts.cluster).toBe(`node ${CLI_BIN} cluster`);
    expect(path.join("apps/cli", JSON.parse(read("apps/cli/package.json")).bin.caravan)).toBe(CLI_BIN);
  });

  it("the server entry refuses an unknown kind (exit 2, naming the kinds)", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", SERVER_ENTRY, "gatewy"], { cwd: ROOT, encoding: "utf8" });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("serve|gateway|worker");
  });
});

describe("infra/healthcheck.mjs", () => {
  let server: http.Server;
  let port = 0;
  let status = 200;
  const paths: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      paths.push(req.url ?? "");
      res.writeHead(status).end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const probe = (role: string, env: Record<string, string>) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [at("infra/healthcheck.mjs"), role], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: "ignore" });
      child.on("exit", (code: number | null) => resolve(code));
    });

  it("probes GET / on the gateway's port and GET /metrics on the worker's metrics port; fails on errors", async () => {
    status = 200;
    expect(await probe("gateway", { CARAVAN_HOST: `0.0.0.0:${port}` })).toBe(0);
    expect(await probe("gateway", { CARAVAN_HOST: `http://0.0.0.0:${port}` })).toBe(0);
    expect(await probe("worker", { CARAVAN_METRICS_PORT: String(port) })).toBe(0);
    expect(paths).toEqual(["/", "/", "/metrics"]);
    status = 503;
    expect(await probe("gateway", { CARAVAN_HOST: `0.0.0.0:${port}` })).toBe(1);
    expect(await probe("worker", { CARAVAN_METRICS_PORT: "1" })).toBe(1);
    expect(await probe("nonsense", {})).toBe(2);
  });
});

describe("telemetry configuration", () => {
  const prometheus = yamlFile("infra/prometheus/prometheus.yml");
  const collector = yamlFile("infra/otel-collector/config.yaml");
  const job = (name: string) => prometheus.scrape_configs.find((j: any) => j.job_name === name);

  it("Prometheus scrapes the gateway's /metrics, every worker through Docker DNS, and the collector", () => {
    expect(job("caravan-gateway").static_configs).toEqual([{ targets: ["gateway:11434"] }]);
    expect(job("caravan-gateway").metrics_path ?? "/metrics").toBe("/metrics");
    expect(job("caravan-worker").dns_sd_configs).toEqual([{ names: ["worker", "worker-cuda"], type: "A", port: 9464, refresh_interval: "10s" }]);
    const targets = prometheus.scrape_configs.flatMap((j: any) => (j.static_configs ?? []).flatMap((c: any) => c.targets));
    const names = [...targets.map((t: string) => t.split(":")[0]), ...job("caravan-worker").dns_sd_configs[0].names];
    for (const host of names) expect(Object.keys(services), host).toContain(host);
    const exporterPort = collector.exporters.prometheus.endpoint.split(":").at(-1);
    const selfPort = String(collector.service.telemetry.metrics.readers[0].pull.exporter.prometheus.port);
    expect(targets).toEqual(expect.arrayContaining([`otel-collector:${exporterPort}`, `otel-collector:${selfPort}`]));
    // the OTLP copy of caravan's metrics must not take the job names of the direct scrapes
    expect(prometheus.scrape_configs.every((j: any) => !j.honor_labels)).toBe(true);
  });

  const promtool = process.env.PROMTOOL ?? "promtool";
  const hasPromtool = spawnSync(promtool, ["--version"]).status === 0;
  it.skipIf(!hasPromtool)("promtool accepts the Prometheus configuration (skipped where promtool is not installed: CI lacks it)", () => {
    const run = spawnSync(promtool, ["check", "config", at("infra/prometheus/prometheus.yml")], { encoding: "utf8" });
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });

  it("the collector receives OTLP over gRPC and HTTP and sends traces to Jaeger, metrics to Prometheus", () => {
    expect(collector.receivers.otlp.protocols).toEqual({ grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } });
    const pipelines = collector.service.pipelines;
    expect(Object.keys(pipelines).sort()).toEqual(["metrics", "traces"]);
    for (const [name, p] of Object.entries<any>(pipelines)) {
      for (const r of p.receivers) expect(collector.receivers, `${name}: ${r}`).toHaveProperty([r]);
      for (const r of p.processors ?? []) expect(collector.processors, `${name}: ${r}`).toHaveProperty([r]);
      for (const r of p.exporters) expect(collector.exporters, `${name}: ${r}`).toHaveProperty([r]);
    }
    expect(pipelines.traces.exporters).toEqual(["otlp/jaeger"]);
    expect(collector.exporters["otlp/jaeger"].endpoint).toBe("jaeger:4317");
    expect(pipelines.metrics.exporters).toEqual(["prometheus"]);
    for (const ext of collector.service.extensions ?? []) expect(collector.extensions).toHaveProperty([ext]);
    // the endpoint given to caravan is this collector's OTLP/HTTP port
    expect(services.gateway.environment.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(`http://otel-collector:${collector.receivers.otlp.protocols.http.endpoint.split(":")[1]}`);
  });

  it("Grafana provisions Prometheus and Jaeger, and loads the dashboards folder that compose mounts", () => {
    const datasources = yamlFile("infra/grafana/provisioning/datasources/datasources.yaml").datasources;
    expect(datasources.map((d: any) => [d.uid, d.type, d.url])).toEqual([
      ["prometheus", "prometheus", "http://prometheus:9090"],
      ["jaeger", "jaeger", "http://jaeger:16686"],
    ]);
    const providers = yamlFile("infra/grafana/provisioning/dashboards/dashboards.yaml").providers;
    expect(providers.map((p: any) => [p.type, p.options.path])).toEqual([["file", "/var/lib/grafana/dashboards"]]);
    expect(services.grafana.volumes).toContain("./infra/grafana/dashboards:/var/lib/grafana/dashboards:ro");
  });
});

describe("infra/grafana/dashboards/caravan.json", () => {
  const dashboard = JSON.parse(read("infra/grafana/dashboards/caravan.json"));
  const variables: any[] = dashboard.templating.list;
  const constants: Record<string, string> = Object.fromEntries(variables.filter((v) => v.type === "constant").map((v) => [v.name, v.query]));
  const panels: any[] = dashboard.panels.filter((p: any) => p.type !== "row");
  const exprs = panels.flatMap((p) => p.targets.map((t: any) => ({ panel: p.title as string, expr: t.expr as string })));
  const expand = (expr: string) => expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a, b) => constants[a ?? b] ?? whole);
  const metricsIn = (expr: string) => [...expand(expr).matchAll(/\b(?:gen_ai|caravan)_[a-z0-9_]+\b/g)].map((m) => m[0]).filter((n) => !LABELS.has(n));

  it("keeps every metric name in one place: hidden constants m_*, each a known name", () => {
    const names = Object.entries(constants).filter(([k]) => k.startsWith("m_"));
    expect(names.length).toBe(METRIC_BASES.size);
    for (const [key, name] of names) expect(METRIC_BASES, key).toContain(name);
    for (const v of variables.filter((x) => x.type === "constant")) expect(v.hide, v.name).toBe(2);
    // no query names a metric itself
    for (const { panel, expr } of exprs) {
      const literal: string[] = expr.replace(/\$\{\w+\}|\$\w+/g, "").match(/\b(?:gen_ai|caravan)_[a-z0-9_]+\b/g) ?? [];
      expect(literal.filter((n) => !LABELS.has(n)), panel).toEqual([]);
    }
  });

  it("queries only known series and labels, through defined variables and provisioned datasources", () => {
    const defined = new Set(variables.map((v) => v.name).concat(["__rate_interval", "__interval", "__range"]));
    expect(exprs.length).toBeGreaterThanOrEqual(20);
    for (const { panel, expr } of exprs) {
      const metrics = metricsIn(expr);
      expect(metrics.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const m of metrics) expect(SERIES, `${panel}: ${m}`).toContain(m);
      for (const [, a, b] of expr.matchAll(/\$\{(\w+)\}|\$(\w+)/g)) expect(defined, `${panel}: ${a ?? b}`).toContain(a ?? b);
      for (const [, label] of expand(expr).matchAll(/\b([a-z_]+)\s*(?:=~|!=|!~|=)\s*"/g)) expect([...LABELS, "job"], `${panel}: ${label}`).toContain(label);
    }
    for (const p of panels) {
      expect(p.datasource.uid, p.title).toBe("prometheus");
      for (const t of p.targets) expect(t.datasource.uid, p.title).toBe("prometheus");
    }
    for (const v of variables.filter((x) => x.type === "query")) for (const m of metricsIn(v.definition)) expect(SERIES, v.name).toContain(m);
    expect(constants.caravan_jobs).toBe('job=~"caravan-gateway|caravan-worker"');
    const jobs = yamlFile("infra/prometheus/prometheus.yml").scrape_configs.map((j: any) => j.job_name);
    expect(jobs).toEqual(expect.arrayContaining(["caravan-gateway", "caravan-worker"]));
  });

  it("shows what the issue asks for", () => {
    const titles = panels.map((p) => p.title as string);
    const panelFor = (title: RegExp) => {
      const panel = panels.find((p) => title.test(p.title));
      expect(panel, String(title)).toBeDefined();
      return panel.targets.map((t: any) => expand(t.expr)).join("\n");
    };
    expect(panelFor(/^Time to first token/)).toMatch(/histogram_quantile\(0\.5,[\s\S]*gen_ai_server_time_to_first_token_seconds_bucket[\s\S]*histogram_quantile\(0\.95,/);
    const tokens = panelFor(/^Tokens\/s: overall and per worker/);
    expect(tokens).toContain("sum(rate(caravan_tokens_generated_total");
    expect(tokens).toContain("sum by (caravan_worker_id) (rate(caravan_tokens_generated_total");
    expect(panelFor(/^Queue depth per model/)).toMatch(/by \(gen_ai_request_model\) \(caravan_queue_depth/);
    expect(panelFor(/^Loaded models per worker/)).toMatch(/by \(caravan_worker_id\) \(caravan_models_loaded/);
    const seq = panelFor(/^Sequences per worker/);
    expect(seq).toContain("caravan_sequences_busy");
    expect(seq).toContain("caravan_sequences_free");
    expect(panelFor(/^Requests\/s by model/)).toContain("gen_ai_server_request_duration_seconds_count");
    const errors = panelFor(/^Errors and rejections/);
    expect(errors).toContain('error_type!=""');
    expect(errors).toContain("caravan_errors_total");
    expect(errors).toContain("caravan_requests_rejected_total");
    expect(panelFor(/^Model loads/)).toContain("caravan_model_loads_total");
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    expect(titles.length).toBeGreaterThanOrEqual(15);
  });

  const promtool = process.env.PROMTOOL ?? "promtool";
  it.skipIf(spawnSync(promtool, ["--version"]).status !== 0)("every query parses as PromQL (promtool; skipped where promtool is not installed: CI lacks it)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "caravan-infra-"));
    const rules = exprs.map(({ expr }, i) => ({
      record: `caravan:dashboard_${i}`,
      expr: expand(expr).replaceAll("$__rate_interval", "1m").replace(/\$(model|worker)\b/g, ".*"),
    }));
    fs.writeFileSync(path.join(dir, "rules.json"), JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
    const run = spawnSync(promtool, ["check", "rules", path.join(dir, "rules.json")], { encoding: "utf8" });
    fs.rmSync(dir, { recursive: true, force: true });
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });
});
