import pino from "pino";
import { describe, expect, it } from "vitest";
import type { ApiKeyRecord } from "../auth/key-record.ts";
import { GatewayTelemetry } from "../telemetry/gateway-telemetry.ts";
import { KeyGate } from "./key-gate.ts";
import { MemoryLimitStore } from "./memory-limit-store.ts";

/** A real in-memory store that counts the calls made to it. */
class CountingStore extends MemoryLimitStore {
  calls: string[] = [];
  override async acquire(...args: Parameters<MemoryLimitStore["acquire"]>) {
    this.calls.push("acquire");
    return super.acquire(...args);
  }
  override async fairEnter(...args: Parameters<MemoryLimitStore["fairEnter"]>) {
    this.calls.push("fairEnter");
    return super.fairEnter(...args);
  }
  override async fairLeave(...args: Parameters<MemoryLimitStore["fairLeave"]>) {
    this.calls.push("fairLeave");
    return super.fairLeave(...args);
  }
}

const telemetry = GatewayTelemetry.disabled({ queueStats: async () => [], workers: async () => [] });
const key = (id: string): ApiKeyRecord => ({ id, prefix: "ck-x", hash: "0".repeat(64), created_at: "2026-01-01T00:00:00Z", limits: {} });

describe("KeyGate", () => {
  it("without an API key (auth off) takes no fair-share tag and asks the store nothing: arrival order", async () => {
    const store = new CountingStore();
    const gate = new KeyGate(store, { maxConcurrent: 0, rpm: 0, tpm: 0 }, telemetry, pino({ level: "silent" }));
    const ticket = await gate.enter("m", undefined, "job-1");
    ticket.queueLeft(true);
    ticket.end(undefined);
    expect(ticket.priority).toBeUndefined();
    expect(store.calls).toEqual([]);
  });

  it("with keys, tags each key's jobs for fair share: a second key's first job goes before the first key's second", async () => {
    const store = new CountingStore();
    const gate = new KeyGate(store, { maxConcurrent: 0, rpm: 0, tpm: 0 }, telemetry, pino({ level: "silent" }));
    const a1 = await gate.enter("m", key("a"), "1");
    const a2 = await gate.enter("m", key("a"), "2");
    const b1 = await gate.enter("m", key("b"), "3");
    expect(b1.priority!).toBeLessThan(a2.priority!);
    expect(a1.priority!).toBeLessThanOrEqual(b1.priority!);
    for (const t of [a1, a2, b1]) t.end(undefined);
    expect(store.calls.filter((c) => c === "fairLeave")).toHaveLength(3);
  });
});
