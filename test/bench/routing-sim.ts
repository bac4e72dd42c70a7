/**
 * Routing on a mixed multi-model trace: caravan's placement vs plain round-robin, replayed in
 * simulated time. Both policies drive caravan's real scheduling code — the worker's Residency
 * (keep_alive, budget, eviction) and the gateway's place() — with a SIMULATED engine: a load
 * takes LOAD_MS, a token 1000/TOKENS_PER_S ms. Nothing here runs a model; the numbers measure
 * the routing decisions, under the stated load and decode costs.
 *
 *   pnpm bench:routing            (results in bench-results/routing.json)
 *
 * caravan: one FIFO queue per model; a worker takes jobs of a model only while it has it
 * loaded; place() decides loads (cold, or spill past the backlog), re-checked every second.
 * round-robin: request i goes to worker i mod N, which queues it (FIFO, like one Ollama) and
 * loads the model there if needed, evicting as its residency allows.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { WIRE_VERSION, type LoadedCopy, type WorkerState } from "@caravan/protocol";
import { place } from "@caravan/gateway";
import { NoRoomError, Residency } from "@caravan/worker";
import { ROOT } from "../harness/processes.ts";
import { SimClock } from "./sim-clock.ts";

const WORKERS = 3;
const SLOTS = 4;
const MAX_LOADED = 2;
const MODELS = ["m1", "m2", "m3", "m4", "m5"].map((m) => `${m}:latest`);
const REQUESTS = Number(process.env.REQUESTS ?? 400);
const RATE_PER_S = Number(process.env.RATE ?? 3);
const LOAD_MS = Number(process.env.LOAD_MS ?? 3000);
const PROMPT_MS = 30;
const TOKENS = 100;
const TOKENS_PER_S = 50;
const KEEP_ALIVE_MS = 5 * 60_000;
const SPILL_BACKLOG = 4;

interface Request {
  index: number;
  model: string;
  arrival: number;
  ttft?: number;
  end?: number;
}

/** A deterministic trace: Poisson arrivals, Zipf-like popularity (m1 most popular). */
function trace(seed = 42): Request[] {
  let state = seed;
  const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const weights = MODELS.map((_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  let time = 0;
  return Array.from({ length: REQUESTS }, (_, index) => {
    time += (-Math.log(1 - random()) / RATE_PER_S) * 1000;
    let pick = random() * total;
    const model = MODELS[weights.findIndex((w) => (pick -= w) <= 0)] ?? MODELS[0]!;
    return { index, model, arrival: time };
  });
}

class SimWorker {
  readonly residency: Residency;
  readonly running = new Map<string, number>();
  readonly queue: Request[] = []; // round-robin only
  loads = 0;

  constructor(
    readonly id: string,
    private readonly clock: SimClock,
    onChange: () => void,
  ) {
    this.residency = new Residency(
      { maxLoadedModels: MAX_LOADED, memoryBudgetBytes: 100e9, defaultKeepAliveMs: KEEP_ALIVE_MS },
      {
        load: async () => {
          this.loads++;
          await clock.sleep(LOAD_MS);
          return { handle: undefined, loadDurationNs: LOAD_MS * 1e6, sizeBytes: 1e9, contextLength: 4096, slots: SLOTS };
        },
        unload: () => clock.sleep(100),
        estimate: () => ({ bytes: 1e9, contextLength: 4096, settings: "sim", sizedBy: "the simulation's fixed size" }),
        clock,
        onChange,
      },
    );
  }

  free(model: string): number {
    return SLOTS - (this.running.get(model) ?? 0);
  }

  /** Runs one request here: holds a residency reference, a slot, then generates. */
  async serve(request: Request, lease: { release(): void }): Promise<void> {
    this.running.set(request.model, (this.running.get(request.model) ?? 0) + 1);
    await this.clock.sleep(PROMPT_MS);
    request.ttft = this.clock.now() - request.arrival;
    await this.clock.sleep((TOKENS * 1000) / TOKENS_PER_S);
    request.end = this.clock.now();
    this.running.set(request.model, (this.running.get(request.model) ?? 1) - 1);
    lease.release();
  }

  state(): WorkerState {
    const loaded: LoadedCopy[] = this.residency.snapshot().map((copy) => ({ ...copy, busy: this.running.get(copy.model) ?? copy.busy }));
    return {
      v: WIRE_VERSION,
      worker_id: this.id,
      models: MODELS.map((name) => ({ name, model: name, modified_at: "", size: 1e9, digest: "", details: { parent_model: "", format: "gguf", family: "sim", families: null, parameter_size: "", quantization_level: "" }, capabilities: ["completion"] })),
      num_parallel: SLOTS,
      busy: [...this.running.values()].reduce((a, b) => a + b, 0),
      started_at: 0,
      draining: false,
      loaded,
      max_loaded_models: MAX_LOADED,
      memory_budget_bytes: 100e9,
      memory_used_bytes: this.residency.usedBytes(),
      engine: "simulated",
      gpu: true,
    };
  }
}

async function simulateCaravan(requests: Request[]) {
  const clock = new SimClock();
  const queues = new Map<string, Request[]>(MODELS.map((m) => [m, []]));
  const pending = new Map<string, Set<string>>();
  const workers: SimWorker[] = [];
  const pull = () => {
    for (const worker of workers) {
      for (const [model, queue] of queues) {
        while (queue.length > 0 && worker.residency.isLoaded(model) && worker.free(model) > 0) {
          const request = queue.shift()!;
          // Reserve the slot now; the lease is taken at once since the model is loaded.
          worker.running.set(model, (worker.running.get(model) ?? 0) + 1);
          void worker.residency.acquire(model, { options: {} }).then((lease) => {
            worker.running.set(model, worker.running.get(model)! - 1);
            return worker.serve(request, { release: () => (lease.release(), pull()) });
          });
        }
      }
    }
  };
  for (let i = 0; i < WORKERS; i++) workers.push(new SimWorker(`w${i + 1}`, clock, () => pull()));
  const placeModel = (model: string) => {
    const decision = place({
      model,
      waiting: Math.max(1, queues.get(model)!.length),
      oldestWaitMs: 0,
      workers: workers.map((w) => w.state()),
      spillBacklog: SPILL_BACKLOG,
      pendingLoads: [...(pending.get(model) ?? [])],
    });
    if (decision.action !== "load") return;
    const worker = workers.find((w) => w.id === decision.workerId)!;
    const set = pending.get(model) ?? new Set<string>();
    pending.set(model, set.add(worker.id));
    worker.residency
      .load(model, { options: {} })
      .catch((error: unknown) => {
        if (!(error instanceof NoRoomError)) throw error;
      })
      .finally(() => {
        set.delete(worker.id);
        pull();
      });
  };
  for (const request of requests) {
    clock.setTimeout(() => {
      queues.get(request.model)!.push(request);
      placeModel(request.model);
      pull();
    }, request.arrival);
  }
  // The dispatcher's tick: re-place models whose jobs still wait.
  const horizon = requests.at(-1)!.arrival + 600_000;
  const tick = () => {
    for (const [model, queue] of queues) if (queue.length > 0) placeModel(model);
    if (clock.now() < horizon) clock.setTimeout(tick, 1000);
  };
  clock.setTimeout(tick, 1000);
  await clock.run(horizon);
  return { workers };
}

async function simulateRoundRobin(requests: Request[]) {
  const clock = new SimClock();
  const workers: SimWorker[] = [];
  const drain = (worker: SimWorker) => {
    // Like one Ollama: serve its own queue in arrival order; a request whose model must be
    // loaded waits for room (and blocks the ones behind it), as Ollama's scheduler does.
    while (worker.queue.length > 0) {
      const request = worker.queue[0]!;
      const loaded = worker.residency.isLoaded(request.model);
      if (loaded && worker.free(request.model) <= 0) return;
      worker.queue.shift();
      worker.running.set(request.model, (worker.running.get(request.model) ?? 0) + 1);
      void worker.residency.acquire(request.model, { options: {} }).then(
        (lease) => {
          worker.running.set(request.model, worker.running.get(request.model)! - 1);
          return worker.serve(request, { release: () => (lease.release(), drain(worker)) });
        },
        (error: unknown) => {
          if (!(error instanceof NoRoomError)) throw error;
          worker.running.set(request.model, worker.running.get(request.model)! - 1);
          worker.queue.unshift(request); // no room beside busy models: retry when one ends
        },
      );
      if (!loaded) return; // wait for the load before looking further
    }
  };
  for (let i = 0; i < WORKERS; i++) {
    const worker: SimWorker = new SimWorker(`w${i + 1}`, clock, () => drain(worker));
    workers.push(worker);
  }
  for (const request of requests) {
    clock.setTimeout(() => {
      const worker = workers[request.index % WORKERS]!;
      worker.queue.push(request);
      drain(worker);
    }, request.arrival);
  }
  await clock.run(requests.at(-1)!.arrival + 600_000);
  return { workers };
}

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * q))]!;

function summarize(requests: Request[], workers: SimWorker[]) {
  const ttfts = requests.map((r) => r.ttft).filter((t): t is number => t !== undefined);
  return {
    completed: requests.filter((r) => r.end !== undefined).length,
    model_loads: workers.reduce((n, w) => n + w.loads, 0),
    ttft_ms_p50: Math.round(quantile(ttfts, 0.5)),
    ttft_ms_p95: Math.round(quantile(ttfts, 0.95)),
    makespan_s: +((Math.max(...requests.map((r) => r.end ?? 0)) - requests[0]!.arrival) / 1000).toFixed(1),
  };
}

const caravanRequests = trace();
const caravan = summarize(caravanRequests, (await simulateCaravan(caravanRequests)).workers);
const rrRequests = trace();
const roundRobin = summarize(rrRequests, (await simulateRoundRobin(rrRequests)).workers);

const conditions = {
  workers: WORKERS,
  slots_per_model: SLOTS,
  max_loaded_models_per_worker: MAX_LOADED,
  models: MODELS.length,
  popularity: "1/rank (Zipf-like)",
  requests: REQUESTS,
  arrivals_per_s: RATE_PER_S,
  load_ms: LOAD_MS,
  prompt_ms: PROMPT_MS,
  tokens_per_request: TOKENS,
  tokens_per_s_per_stream: TOKENS_PER_S,
  keep_alive_ms: KEEP_ALIVE_MS,
  spill_backlog: SPILL_BACKLOG,
};
const report = { command: "pnpm bench:routing", engine: "simulated", conditions, results: { caravan, round_robin: roundRobin }, machine: { node: process.version, cores: os.availableParallelism() } };
// BENCH_JSON: where `pnpm bench` (test/bench/scenarios/scripted.ts) wants the results
const jsonPath = process.env.BENCH_JSON ?? path.join(ROOT, "bench-results/routing.json");
await fs.mkdir(path.dirname(jsonPath), { recursive: true });
await fs.writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
console.log("| policy | completed | model loads | TTFT p50 (ms) | TTFT p95 (ms) | makespan (s) |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const [name, r] of Object.entries(report.results)) console.log(`| ${name} | ${r.completed} | ${r.model_loads} | ${r.ttft_ms_p50} | ${r.ttft_ms_p95} | ${r.makespan_s} |`);
console.log(JSON.stringify(conditions));
