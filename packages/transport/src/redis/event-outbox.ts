import { EVENT_WINDOW_MS } from "../event-window.ts";
import { SendWindow } from "../send-window.ts";

/**
 * Coalesces job events bound for one pub/sub channel: the one window (EVENT_WINDOW_MS) over
 * Redis. An event for a channel that has published nothing for `windowMs` goes at once (at the
 * end of the current event-loop turn, with whatever else that turn sends: a batching engine
 * releases all its streams' tokens together), so a quiet stream pays no delay; events that come
 * faster wait for the rest of the window and leave together as one JSON array. A worker serving many streams for one gateway thus sends at most
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
