/**
 * `pnpm bench [scenario ...]`: runs the named scenarios (all when none) at full size and writes
 * bench-results/<scenario>/{results.json,results.md,*.svg}. Scenarios: capacity, gaps, scaling,
 * parallel, overhead, routing, memory. `LEVELS=1,100,250` runs capacity and gaps at those
 * concurrencies only.
 */
import { CAPACITY_FULL, runCapacity } from "./scenarios/capacity.ts";
import { GAPS_FULL, runGaps } from "./scenarios/gaps.ts";
import { MEMORY_FULL, runMemory } from "./scenarios/memory.ts";
import { PARALLEL_FULL, runParallel } from "./scenarios/parallel.ts";
import { runScaling, SCALING_FULL } from "./scenarios/scaling.ts";
import { runOverhead, runRouting } from "./scenarios/scripted.ts";

const levels = process.env.LEVELS?.split(",").map(Number);

const scenarios: Record<string, (command: string) => Promise<unknown>> = {
  overhead: (command) => runOverhead({ runs: Number(process.env.RUNS ?? 15), warmup: Number(process.env.WARMUP ?? 1000) }, { command }),
  capacity: (command) => runCapacity({ ...CAPACITY_FULL, ...(levels && { levels }) }, { command }),
  gaps: (command) => runGaps({ ...GAPS_FULL, ...(levels && { levels }) }, { command }),
  scaling: (command) => runScaling(SCALING_FULL, { command }),
  routing: (command) => runRouting({ requests: Number(process.env.REQUESTS ?? 400), loadMs: Number(process.env.LOAD_MS ?? 3000) }, { command }),
  parallel: (command) => runParallel(PARALLEL_FULL, { command }),
  memory: (command) => runMemory(MEMORY_FULL, { command }),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in scenarios));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(", ")}; known: ${Object.keys(scenarios).join(", ")}`);
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(scenarios)) {
  console.error(`[bench] ${name}`);
  const out = await scenarios[name]!(`pnpm bench ${name}`);
  if (out && typeof out === "object" && "dir" in out) console.error(`[bench] ${name}: results in ${(out as { dir: string }).dir}`);
}
