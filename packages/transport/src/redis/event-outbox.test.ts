import { describe, expect, it } from "vitest";
import { EventOutbox } from "./event-outbox.ts";

/**
 * The outbox's coalescing, with a publish function that records messages and answers when the
 * test says so (the Redis side is covered by the transport contract test on a real Redis).
 */
function recorder(receivers = 1) {
  const messages: { channel: string; message: string }[] = [];
  const inFlight: (() => void)[] = [];
  const publish = (channel: string, message: string) =>
    new Promise<number>((resolve) => {
      messages.push({ channel, message });
      inFlight.push(() => resolve(receivers));
    });
  const answerAll = async () => {
    while (inFlight.length > 0) inFlight.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { messages, publish, answerAll };
}

describe("EventOutbox", () => {
  it("publishes an event at once when nothing is in flight on its channel", async () => {
    const r = recorder();
    const outbox = new EventOutbox(r.publish);
    const sent = outbox.send("a", '{"n":1}');
    expect(r.messages).toEqual([{ channel: "a", message: '{"n":1}' }]);
    await r.answerAll();
    expect(await sent).toBe(1);
  });

  it("sends what arrived during a publish as one array, in order", async () => {
    const r = recorder();
    const outbox = new EventOutbox(r.publish);
    const sends = [outbox.send("a", '{"n":1}'), outbox.send("a", '{"n":2}'), outbox.send("a", '{"n":3}'), outbox.send("a", '{"n":4}')];
    expect(r.messages.map((m) => m.message)).toEqual(['{"n":1}']);
    await r.answerAll();
    expect(r.messages.map((m) => m.message)).toEqual(['{"n":1}', '[{"n":2},{"n":3},{"n":4}]']);
    expect(JSON.parse(r.messages[1]!.message)).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }]);
    await r.answerAll();
    expect(await Promise.all(sends)).toEqual([1, 1, 1, 1]);
    // idle again: the next event goes alone and at once
    void outbox.send("a", '{"n":5}');
    expect(r.messages.at(-1)!.message).toBe('{"n":5}');
  });

  it("keeps channels apart: one channel's publish in flight does not hold another's", () => {
    const r = recorder();
    const outbox = new EventOutbox(r.publish);
    void outbox.send("a", '{"n":1}');
    void outbox.send("b", '{"n":2}');
    void outbox.send("a", '{"n":3}');
    expect(r.messages).toEqual([
      { channel: "a", message: '{"n":1}' },
      { channel: "b", message: '{"n":2}' },
    ]);
  });

  it("tells every event of a batch that nobody heard it, and a failed publish counts as unheard", async () => {
    const r = recorder(0);
    const outbox = new EventOutbox(r.publish);
    const sends = [outbox.send("a", "{}"), outbox.send("a", "{}"), outbox.send("a", "{}")];
    await r.answerAll();
    await r.answerAll();
    expect(await Promise.all(sends)).toEqual([0, 0, 0]);
    const failing = new EventOutbox(() => Promise.reject(new Error("connection closed")));
    expect(await failing.send("a", "{}")).toBe(0);
  });
});
