import { SendWindow } from "../send-window.ts";

/**
 * How long events bound for one channel may wait to travel together. Each PUBLISH costs the
 * worker a socket write, Redis a delivery and the gateway a read and a parse, whatever the
 * message's size, and on a shared VM the write that wakes the other side costs ~100 µs: a worker
 * streaming 16 sequences at 50 tokens/s spent ~200 µs of CPU per token publishing them one by
 * one. Waiting for the round trip of the previous publish (about 0.2 ms) batched nothing at such
 * rates; a window of a few ms batches several tokens per message and stays well inside the
 * per-token latency budget (the worker's ChunkBatcher already holds a job's text up to 5 ms).
 */
export const EVENT_WINDOW_MS = 4;

/**
 * Coalesces job events bound for one pub/sub channel. An event for a channel that has published
 * nothing for `windowMs` goes at once (at the end of the current event-loop turn, with whatever
 * else that turn sends: a batching engine releases all its streams' tokens together), so a quiet
 * stream pays no delay; events that come faster wait for the rest of the window and leave
 * together as one JSON array. A worker serving many streams for one gateway thus sends at most
 * one message per window instead of one per token. An `urgent` event (a job's first output or its
 * end: see jobUrgency) goes at once with whatever waits before it.
 *
 * Events of one channel leave in the order they were sent (publishes on one connection reach
 * Redis in order). Each send resolves with the number of subscribers that received the message
 * its event travelled in (0 = nobody is listening).
 */
export class EventOutbox {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly publish: (channel: string, message: string) => Promise<number>,
    private readonly windowMs = EVENT_WINDOW_MS,
  ) {}

  /** `json`: one serialized event object. */
  send(channel: string, json: string, urgent = false): Promise<number> {
    return new Promise((resolve) => {
      const state = this.channels.get(channel) ?? this.open(channel);
      state.pending.push({ json, resolve });
      state.window.due(urgent);
    });
  }

  private open(name: string): Channel {
    // Gateways come and go (a reply channel per gateway process): forget the channels that have
    // been quiet for a window, which behave exactly like channels never seen.
    for (const [other, state] of this.channels) if (state.pending.length === 0 && state.window.quiet) this.channels.delete(other);
    const state: Channel = { pending: [], window: new SendWindow(this.windowMs, () => this.flush(name, state), true) };
    this.channels.set(name, state);
    return state;
  }

  private flush(channel: string, state: Channel): boolean {
    const batch = state.pending;
    if (batch.length === 0) return false;
    state.pending = [];
    const message = batch.length === 1 ? batch[0]!.json : `[${batch.map((p) => p.json).join(",")}]`;
    void this.publish(channel, message)
      .catch(() => 0)
      .then((receivers) => {
        for (const pending of batch) pending.resolve(receivers);
      });
    return true;
  }
}

interface Channel {
  pending: Pending[];
  /** when the pending events leave (at the end of this turn, or when the channel's window ends) */
  window: SendWindow;
}

interface Pending {
  json: string;
  resolve: (receivers: number) => void;
}

/**
 * Which of one job's events go at once rather than with the window: its first output and its
 * end, since neither its time to first token nor the end of its request (all a `stream: false`
 * client waits for) may wait for other jobs' batching. Its `started` and the tokens between ride
 * the window; the first output carries a `started` still waiting, as events leave in order.
 */
export function jobUrgency(): (event: { type: string }) => boolean {
  let answered = false;
  return (event) => {
    if (event.type === "started") return false;
    const first = !answered;
    answered = true;
    return first || event.type === "done" || event.type === "error";
  };
}
