import type { JobEvent } from "@caravan/protocol";
import { SendWindow } from "./send-window.ts";

/**
 * The window a job's streamed output waits in on its way to the gateway: what comes within this
 * long of the last send waits for the window's end and leaves with whatever else came. It is the
 * only one on the token's path: the worker's ChunkBatcher and an isolated runner keep no clock,
 * they only merge what comes while the transport still holds their last events (see
 * JobContext.emit). Over Redis it is per reply channel, shared by all of a gateway's streams (see
 * EventOutbox): each PUBLISH costs the worker a socket write, Redis a delivery and the gateway a
 * read and a parse whatever its size, and a worker streaming 16 sequences at 50 tokens/s spent
 * ~200 µs of CPU per token publishing them one by one. A few ms batches several tokens per
 * message at such rates and stays well inside the per-token latency budget, which a busy channel
 * makes every stream on it pay.
 */
export const EVENT_WINDOW_MS = 4;

/**
 * The window in one process, per job (EventWindow): a stream waits in it only when it is faster
 * than one chunk per window, so its length costs nothing at 50 tokens/s. What it bounds is a fast
 * model's cost per chunk: the gateway's line and socket write, and with a runner process its
 * message and the `more` that answers it. 10 ms, as the runner's own window was: with 4 ms,
 * stories260K (~1,300 tokens/s) through `pnpm start` cost the process half as much CPU again per
 * request (docs/benchmarks.md, issue 21).
 */
export const JOB_WINDOW_MS = 10;

/**
 * Which of one job's events go at once rather than with the window: its first output and its
 * end, since neither its time to first token nor the end of its request (all a `stream: false`
 * client waits for) may wait for other events' batching. Its `started` and the tokens between
 * ride the window; the first output carries a `started` still waiting, as events leave in order.
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

/**
 * One job's events handed to a gateway in this process, through the window (JOB_WINDOW_MS). Per
 * job, not per gateway: handing an event over costs nothing here, only each chunk's line and write
 * to its own client does, so a job waits only behind its own events. An event due at once (see
 * jobUrgency) is handed over synchronously, inside send(). Each send resolves once its event has
 * been handed over (`deliver` may drop it: the gateway released the job), or rejects with what
 * `deliver` threw.
 */
export class EventWindow {
  private pending: Array<{ event: JobEvent; handed: () => void; failed: (error: unknown) => void }> = [];
  private readonly urgent = jobUrgency();
  private readonly window: SendWindow;

  constructor(
    private readonly deliver: (event: JobEvent) => void,
    windowMs = JOB_WINDOW_MS,
  ) {
    this.window = new SendWindow(windowMs, () => this.flush());
  }

  send(event: JobEvent): Promise<void> {
    return new Promise((handed, failed) => {
      this.pending.push({ event, handed, failed });
      this.window.due(this.urgent(event));
    });
  }

  private flush(): boolean {
    if (this.pending.length === 0) return false;
    const batch = this.pending;
    this.pending = [];
    for (const { event, handed, failed } of batch) {
      try {
        this.deliver(event);
        handed();
      } catch (error) {
        failed(error);
      }
    }
    return true;
  }
}
