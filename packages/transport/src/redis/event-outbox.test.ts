import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EventOutbox } from "./event-outbox.ts";

/**
 * The outbox's coalescing, with a publish function that records messages and answers at once,
 * and a fake clock (the Redis side is covered by the transport contract test on a real Redis).
 */
function recorder(receivers = 1) {
  const messages: { channel: string; message: string }[] = [];
  const publish = async (channel: string, message: string) => {
    messages.push({ channel, message });
    return receivers;
  };
  return { messages, publish, texts: () => messages.map((m) => m.message) };
}

const WINDOW = 4;
/** the end of the current event-loop turn, where "at once" publishes */
const turn = () => vi.advanceTimersByTime(0);

describe("EventOutbox", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setImmediate", "clearImmediate", "performance"] }));
  afterEach(() => vi.useRealTimers());

  it("publishes an event at once on a channel that has been quiet for a window, with the rest of that turn's", async () => {
    const r = recorder();
    const outbox = new EventOutbox(r.publish, WINDOW);
    const sent = outbox.send("a", '{"n":1}');
    turn();
    expect(r.messages).toEqual([{ channel: "a", message: '{"n":1}' }]);
    expect(await sent).toBe(1);
    vi.advanceTimersByTime(WINDOW);
    void outbox.send("a", '{"n":2}');
    void outbox.send("a", '{"n":3}');
    turn();
    expect(r.texts()).toEqual(['{"n":1}', '[{"n":2},{"n":3}]']);
  });

  it("holds events that come within the window and sends them as one array, in order, when it ends", async () => {
    const r = recorder();
    const outbox = new EventOutbox(r.publish, WINDOW);
    const sends = [outbox.send("a", '{"n":1}')];
    turn();
    vi.advanceTimersByTime(1);
    sends.push(outbox.send("a", '{"n":2}'), outbox.send("a", '{"n":3}'));
    vi.advanceTimersByTime(1);
    sends.push(outbox.send("a", '{"n":4}'));
    expect(r.texts()).toEqual(['{"n":1}']);
    vi.advanceTimersByTime(WINDOW - 3); // just before the window's end
    expect(r.texts()).toEqual(['{"n":1}']);
    vi.advanceTimersByTime(1);
    expect(r.texts()).toEqual(['{"n":1}', '[{"n":2},{"n":3},{"n":4}]']);
    expect(JSON.parse(r.messages[1]!.message)).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }]);
    expect(await Promise.all(sends)).toEqual([1, 1, 1, 1]);
  });

  it("sends an urgent event at once, together with what waits before it", () => {
    const r = recorder();
    const outbox = new EventOutbox(r.publish, WINDOW);
    void outbox.send("a", '{"n":1}');
    turn();
    void outbox.send("a", '{"n":2}');
    void outbox.send("a", '{"first":true}', true);
    turn();
    expect(r.texts()).toEqual(['{"n":1}', '[{"n":2},{"first":true}]']);
    // the urgent send restarted the window: what follows waits for it
    void outbox.send("a", '{"n":3}');
    expect(r.messages).toHaveLength(2);
    vi.advanceTimersByTime(WINDOW);
    expect(r.texts().at(-1)).toBe('{"n":3}');
  });

  it("keeps channels apart: one channel's window does not hold another's events", () => {
    const r = recorder();
    const outbox = new EventOutbox(r.publish, WINDOW);
    void outbox.send("a", '{"n":1}');
    void outbox.send("b", '{"n":2}');
    turn();
    void outbox.send("a", '{"n":3}');
    turn();
    expect(r.messages).toEqual([
      { channel: "a", message: '{"n":1}' },
      { channel: "b", message: '{"n":2}' },
    ]);
    vi.advanceTimersByTime(WINDOW);
    expect(r.messages.at(-1)).toEqual({ channel: "a", message: '{"n":3}' });
  });

  it("tells every event of a batch that nobody heard it, and a failed publish counts as unheard", async () => {
    const r = recorder(0);
    const outbox = new EventOutbox(r.publish, WINDOW);
    const sends = [outbox.send("a", "{}"), outbox.send("a", "{}"), outbox.send("a", "{}")];
    vi.advanceTimersByTime(WINDOW);
    expect(await Promise.all(sends)).toEqual([0, 0, 0]);
    const failing = new EventOutbox(() => Promise.reject(new Error("connection closed")), WINDOW);
    const failed = failing.send("a", "{}");
    turn();
    expect(await failed).toBe(0);
  });
});
