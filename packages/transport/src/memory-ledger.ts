import type { Admission, QueueLimits, QueueStats } from "./types.ts";

/** The admission ledger of one process: jobs admitted per model and not yet taken. */
export class MemoryLedger {
  private readonly byModel = new Map<string, Map<string, number>>();
  private total = 0;

  admit(model: string, jobId: string, limits: QueueLimits, now = Date.now()): Admission {
    const entries = this.byModel.get(model) ?? new Map<string, number>();
    if (entries.has(jobId)) return { ok: true };
    if (this.total >= limits.total) return { ok: false, full: "total" };
    if (entries.size >= limits.perModel) return { ok: false, full: "model" };
    entries.set(jobId, now);
    this.byModel.set(model, entries);
    this.total++;
    return { ok: true };
  }

  leave(model: string, jobId: string): void {
    const entries = this.byModel.get(model);
    if (!entries?.delete(jobId)) return;
    this.total--;
    if (entries.size === 0) this.byModel.delete(model);
  }

  stats(): QueueStats[] {
    return [...this.byModel].map(([model, entries]) => ({ model, waiting: entries.size, oldestAdmittedAt: Math.min(...entries.values()) }));
  }
}
