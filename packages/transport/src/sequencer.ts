import { WIRE_VERSION, type JobEvent } from "@caravan/protocol";
import type { EventBody } from "./types.ts";

/** Stamps a job's outgoing events with the wire version, its id and consecutive sequence numbers. */
export function createSequencer(jobId: string): (body: EventBody) => JobEvent {
  let seq = 0;
  return (body) => ({ ...body, v: WIRE_VERSION, id: jobId, seq: seq++ }) as JobEvent;
}
