/**
 * Coalesces job events bound for one pub/sub channel. With nothing in flight on a channel an
 * event is published at once; while a publish is in flight, the events that arrive for that
 * channel wait and then leave together as one JSON array. So a quiet stream pays no delay, and a
 * worker serving hundreds of streams for one gateway sends one message per round trip instead of
 * one per token (each message costs a Redis command, a pub/sub delivery and a parse at the
 * gateway, whatever its size).
 *
 * Events of one channel leave in the order they were sent. Each send resolves with the number of
 * subscribers that received the message its event travelled in (0 = nobody is listening).
 */
export class EventOutbox {
  private readonly channels = new Map<string, Pending[]>();

  constructor(private readonly publish: (channel: string, message: string) => Promise<number>) {}

  /** `json`: one serialized event object. */
  send(channel: string, json: string): Promise<number> {
    return new Promise((resolve) => {
      const waiting = this.channels.get(channel);
      if (waiting) {
        waiting.push({ json, resolve });
        return;
      }
      this.channels.set(channel, []);
      void this.drain(channel, [{ json, resolve }]);
    });
  }

  /** Publishes `batch`, then whatever queued up meanwhile, until the channel is idle. */
  private async drain(channel: string, batch: Pending[]): Promise<void> {
    while (batch.length > 0) {
      const message = batch.length === 1 ? batch[0]!.json : `[${batch.map((p) => p.json).join(",")}]`;
      const receivers = await this.publish(channel, message).catch(() => 0);
      for (const pending of batch) pending.resolve(receivers);
      batch = this.channels.get(channel)!;
      this.channels.set(channel, []);
    }
    this.channels.delete(channel);
  }
}

interface Pending {
  json: string;
  resolve: (receivers: number) => void;
}
