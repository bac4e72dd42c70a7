/**
 * `pnpm soak [minutes]` (default 30): mixed load against a local cluster (`caravan cluster`:
 * Redis, a gateway, two workers) — streaming and not, several models, chat, generate, embed and
 * the OpenAI endpoint, clients that cancel mid-stream, and bad requests. It checks that every
 * error is one the load caused (a bad request's 4xx, our own cancel), that no request hangs (each
 * has a deadline), and samples every process's RSS, the workers' runner processes included.
 * Results: bench-results/soak/ (JSON and Markdown). Not part of `pnpm test`.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { freePort, startCluster } from "@caravan/cli";
import { MODELS_DIR, ROOT } from "../harness/processes.ts";
import { childPids, rssKb } from "../harness/rss.ts";

const MINUTES = Number(process.argv[2] ?? process.env.SOAK_MINUTES ?? 30);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 6);
/** a request not finished in this long counts as hung */
const DEADLINE_MS = 60_000;
const SAMPLE_MS = 30_000;
const MODELS = ["alpha", "beta", "gamma"];

type Outcome = "ok" | "expected_4xx" | "cancelled_by_client" | "unexpected";
interface Result {
  kind: string;
  outcome: Outcome;
  ms: number;
  detail?: string;
}

const results: Result[] = [];
const rss: Record<string, { at: number; kb: number }[]> = {};

async function main(): Promise<void> {
  const models = await mkdtemp(path.join(os.tmpdir(), "caravan-soak-"));
  for (const name of MODELS) await symlink(path.join(MODELS_DIR, "stories260K.gguf"), path.join(models, `${name}.gguf`));
  const port = await freePort();
  const log: string[] = [];
  const cluster = await startCluster(
    { workers: 2, host: `127.0.0.1:${port}`, models, metricsPort: 0, rawLogs: true, env: { CARAVAN_THREADS: "1", CARAVAN_LOG_LEVEL: "warn" } },
    (line) => log.push(line),
  );
  const url = cluster.gatewayUrl;
  await waitUntilServing(url);
  const pids: Record<string, number> = Object.fromEntries(cluster.processes.map((p) => [p.spec.name, p.child.pid!]));
  if (cluster.redis?.child.pid) pids.redis = cluster.redis.child.pid;
  const workers = cluster.processes.filter((p) => p.spec.name.startsWith("worker"));
  const sample = async () => {
    const now = Date.now();
    for (const [name, pid] of Object.entries(pids)) (rss[name] ??= []).push({ at: now, kb: await rssKb(pid) });
    // Each worker runs its models' engines in runner processes, its children: the engine's memory
    // is theirs. A runner's figures start when it first shows (its model's first load).
    for (const worker of workers) {
      for (const pid of await childPids(worker.child.pid!)) (rss[`${worker.spec.name} runner ${pid}`] ??= []).push({ at: now, kb: await rssKb(pid) });
    }
  };
  await sample();
  const sampler = setInterval(() => void sample(), SAMPLE_MS);

  const startedAt = Date.now();
  const endAt = startedAt + MINUTES * 60_000;
  console.log(`soak: ${MINUTES} min, ${CLIENTS} clients against ${url} (2 workers, models ${MODELS.join(", ")})`);
  const progress = setInterval(() => console.log(`soak: ${Math.round((Date.now() - startedAt) / 1000)} s, ${results.length} requests, ${results.filter((r) => r.outcome === "unexpected").length} unexpected`), 60_000);
  await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(url, endAt, i)));
  clearInterval(progress);
  clearInterval(sampler);
  await sample();
  await cluster.stop();
  await rm(models, { recursive: true, force: true });
  await report(startedAt, log);
}

/** One virtual client: requests of random kinds back to back until the end. */
async function client(url: string, endAt: number, seed: number): Promise<void> {
  let n = seed;
  const next = () => (n = (n * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  while (Date.now() < endAt) {
    const model = MODELS[Math.floor(next() * MODELS.length)]!;
    const roll = next();
    const started = Date.now();
    let result: Omit<Result, "ms">;
    try {
      if (roll < 0.3) result = await streamChat(url, model, 20 + Math.floor(next() * 180));
      else if (roll < 0.45) result = await once(url, "/api/chat", { model, stream: false, messages: [{ role: "user", content: "Tell me a story" }], options: { num_predict: 30 } }, "chat");
      else if (roll < 0.55) result = await once(url, "/api/generate", { model, stream: false, prompt: "Once upon a time", options: { num_predict: 30 } }, "generate");
      else if (roll < 0.62) result = await once(url, "/api/embed", { model, input: ["a cat", "a dog"] }, "embed");
      else if (roll < 0.7) result = await once(url, "/v1/chat/completions", { model, messages: [{ role: "user", content: "Hi" }], max_tokens: 20 }, "openai");
      else if (roll < 0.85) result = await cancelMidStream(url, model);
      else result = await badRequest(url, next);
    } catch (error) {
      result = { kind: "error", outcome: "unexpected", detail: String(error) };
    }
    results.push({ ...result, ms: Date.now() - started });
  }
}

async function post(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), signal: AbortSignal.any([AbortSignal.timeout(DEADLINE_MS), ...(signal ? [signal] : [])]) });
}

async function once(url: string, route: string, body: unknown, kind: string): Promise<Omit<Result, "ms">> {
  const response = await post(`${url}${route}`, body);
  const text = await response.text();
  return response.ok ? { kind, outcome: "ok" } : { kind, outcome: "unexpected", detail: `${response.status} ${text.slice(0, 200)}` };
}

async function streamChat(url: string, model: string, numPredict: number): Promise<Omit<Result, "ms">> {
  const response = await post(`${url}/api/chat`, { model, messages: [{ role: "user", content: "Once upon a time" }], options: { num_predict: numPredict } });
  const text = await response.text();
  const last = text.trim().split("\n").at(-1) ?? "";
  if (!response.ok || !last.includes('"done":true')) return { kind: "stream", outcome: "unexpected", detail: `${response.status} ${last.slice(0, 200)}` };
  return { kind: "stream", outcome: "ok" };
}

async function cancelMidStream(url: string, model: string): Promise<Omit<Result, "ms">> {
  const controller = new AbortController();
  const response = await post(`${url}/api/chat`, { model, messages: [{ role: "user", content: "Once upon a time" }], options: { num_predict: 2000 } }, controller.signal);
  if (!response.ok) return { kind: "cancel", outcome: "unexpected", detail: `${response.status}` };
  const reader = response.body!.getReader();
  await reader.read();
  await reader.read();
  controller.abort();
  await reader.cancel().catch(() => undefined);
  return { kind: "cancel", outcome: "cancelled_by_client" };
}

/** A request the client gets wrong: each must be a 4xx, never a 5xx or a hang. */
async function badRequest(url: string, next: () => number): Promise<Omit<Result, "ms">> {
  const cases: [string, unknown][] = [
    ["/api/chat", "{not json"],
    ["/api/chat", { model: "no-such-model", messages: [{ role: "user", content: "x" }] }],
    ["/api/chat", { model: "alpha", messages: "nope" }],
    ["/api/generate", { model: "alpha", prompt: "x", options: { temperature: "hot" } }],
    ["/api/embed", { model: "alpha", input: 42 }],
    ["/v1/chat/completions", { model: "alpha", messages: [], n: 3 }],
  ];
  const [route, body] = cases[Math.floor(next() * cases.length)]!;
  const response = await post(`${url}${route}`, body);
  await response.text();
  return response.status >= 400 && response.status < 500 ? { kind: "bad", outcome: "expected_4xx" } : { kind: "bad", outcome: "unexpected", detail: `${route} → ${response.status}` };
}

async function waitUntilServing(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${url}/api/tags`).catch(() => undefined);
    if (response?.ok && ((await response.json()) as { models: unknown[] }).models.length === MODELS.length) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error("the cluster did not come up");
}


const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

async function report(startedAt: number, log: string[]): Promise<void> {
  const byKind = new Map<string, Result[]>();
  for (const r of results) byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r]);
  const unexpected = results.filter((r) => r.outcome === "unexpected");
  const hung = unexpected.filter((r) => r.ms >= DEADLINE_MS);
  const memory = Object.entries(rss).map(([name, samples]) => ({
    process: name,
    start_mib: +(samples[0]!.kb / 1024).toFixed(1),
    end_mib: +(samples.at(-1)!.kb / 1024).toFixed(1),
    max_mib: +(Math.max(...samples.map((s) => s.kb)) / 1024).toFixed(1),
    samples: samples.length,
  }));
  const facts = { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1), node: process.version, date: new Date(startedAt).toISOString(), minutes: MINUTES, clients: CLIENTS, loadavg: os.loadavg() };
  const summary = {
    facts,
    command: `pnpm soak ${MINUTES}`,
    requests: results.length,
    kinds: Object.fromEntries([...byKind].map(([kind, rs]) => [kind, { count: rs.length, p50_ms: percentile(rs.map((r) => r.ms), 50), p95_ms: percentile(rs.map((r) => r.ms), 95), outcomes: countBy(rs.map((r) => r.outcome)) }])),
    unexpected: unexpected.length,
    hung: hung.length,
    unexpected_samples: unexpected.slice(0, 20),
    memory,
    error_log_lines: log.filter((l) => /"level":(50|60)/.test(l)).slice(0, 20),
  };
  const dir = path.join(ROOT, "bench-results", "soak");
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "soak.json"), `${JSON.stringify(summary, null, 2)}\n`);
  const md = [
    `# Soak: ${MINUTES} min, ${CLIENTS} clients, ${results.length} requests`,
    "",
    `${facts.cores} cores (${facts.cpu}), ${facts.memory_gib} GiB, Node ${facts.node}, ${facts.date}, load average at the end ${facts.loadavg.map((l) => l.toFixed(2)).join(" ")}. Command: \`pnpm soak ${MINUTES}\`.`,
    "",
    "| kind | requests | p50 ms | p95 ms | outcomes |",
    "| --- | ---: | ---: | ---: | --- |",
    ...Object.entries(summary.kinds).map(([kind, k]) => `| ${kind} | ${k.count} | ${k.p50_ms} | ${k.p95_ms} | ${Object.entries(k.outcomes).map(([o, c]) => `${o} ${c}`).join(", ")} |`),
    "",
    `Unexpected outcomes: ${unexpected.length}; hung (past ${DEADLINE_MS / 1000} s): ${hung.length}.`,
    "",
    "| process | RSS start MiB | RSS end MiB | RSS max MiB |",
    "| --- | ---: | ---: | ---: |",
    ...memory.map((m) => `| ${m.process} | ${m.start_mib} | ${m.end_mib} | ${m.max_mib} |`),
    "",
  ].join("\n");
  await writeFile(path.join(dir, "soak.md"), md);
  console.log(md);
  if (unexpected.length > 0) console.log(JSON.stringify(summary.unexpected_samples, null, 2));
  process.exitCode = unexpected.length > 0 ? 1 : 0;
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

await main();
