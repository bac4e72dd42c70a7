import { describe, expect, it } from "vitest";
import { planRoom, type Occupant } from "./eviction.ts";

const idle = (model: string, bytes: number, keepAliveMs: number, lastUsedAt: number): Occupant => ({ model, bytes, idle: true, keepAliveMs, lastUsedAt });
const busy = (model: string, bytes: number): Occupant => ({ model, bytes, idle: false, keepAliveMs: 300_000, lastUsedAt: 0 });
const limits = (maxLoadedModels: number, memoryBudgetBytes: number) => ({ maxLoadedModels, memoryBudgetBytes });

describe("planRoom", () => {
  it.each<[string, Occupant[], number, { maxLoadedModels: number; memoryBudgetBytes: number }, { evict: string[] } | undefined]>([
    ["empty: fits", [], 100, limits(3, 1000), { evict: [] }],
    ["fits beside others", [busy("a", 400), idle("b", 400, 1, 1)], 200, limits(3, 1000), { evict: [] }],
    ["exactly the budget fits", [busy("a", 600)], 400, limits(3, 1000), { evict: [] }],
    ["shortest keep_alive goes first", [idle("long", 300, 600_000, 1), idle("short", 300, 1_000, 2)], 500, limits(3, 1000), { evict: ["short"] }],
    ["forever counts as longest", [idle("forever", 300, -1, 1), idle("hour", 300, 3_600_000, 2)], 500, limits(3, 1000), { evict: ["hour"] }],
    ["same keep_alive: least recently used first", [idle("recent", 300, 1_000, 20), idle("old", 300, 1_000, 10)], 500, limits(3, 1000), { evict: ["old"] }],
    ["only as many as needed", [idle("a", 300, 1, 1), idle("b", 300, 2, 1), idle("c", 300, 3, 1)], 350, limits(4, 1000), { evict: ["a"] }],
    ["several when one is not enough", [idle("a", 300, 1, 1), idle("b", 300, 2, 1), idle("c", 300, 3, 1)], 700, limits(4, 1000), { evict: ["a", "b"] }],
    ["busy models stay; idle ones make room", [busy("a", 500), idle("b", 400, 5, 1)], 400, limits(3, 1000), { evict: ["b"] }],
    ["only busy models could make room: no plan", [busy("a", 600), idle("b", 100, 5, 1)], 500, limits(3, 1000), undefined],
    ["maxLoadedModels: evicts one to make a slot", [idle("a", 1, 9, 1), idle("b", 1, 5, 1)], 1, limits(2, 1000), { evict: ["b"] }],
    ["maxLoadedModels: all busy, no plan", [busy("a", 1), busy("b", 1)], 1, limits(2, 1000), undefined],
    ["alone and over budget: never fits", [], 5000, limits(3, 1000), undefined],
    ["over budget: evicting every idle model would not help, so none is named", [idle("a", 100, 1, 1), idle("b", 100, 2, 1)], 5000, limits(3, 1000), undefined],
    ["over budget beside a busy model: no plan", [busy("a", 100), idle("b", 100, 1, 1)], 5000, limits(3, 1000), undefined],
  ])("%s", (_name, occupants, need, roomLimits, expected) => {
    const plan = planRoom(occupants, need, roomLimits);
    expect(plan && { evict: plan.evict }).toEqual(expected);
  });

  it("says what is left of the budget after the evictions and the load", () => {
    expect(planRoom([busy("a", 300), idle("b", 400, 1, 1)], 500, limits(3, 1000))).toEqual({ evict: ["b"], freeBytes: 200 });
    expect(planRoom([busy("a", 300)], 700, limits(3, 1000))).toEqual({ evict: [], freeBytes: 0 });
  });

  it("counts memory still held beyond the occupants' (copies being unloaded) when told it", () => {
    expect(planRoom([idle("a", 300, 1, 1)], 500, limits(3, 1000))).toEqual({ evict: [], freeBytes: 200 });
    expect(planRoom([idle("a", 300, 1, 1)], 500, limits(3, 1000), 700)).toEqual({ evict: ["a"], freeBytes: 100 });
  });
});
