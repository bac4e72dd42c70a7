import { WIRE_VERSION, type ChunkMessage, type DoneMessage } from "@caravan/protocol";

/** Job events as a worker sends them, for tests of what the gateway makes of them. */
export const chunkEvent = (content: string, seq = 0): ChunkMessage => ({ v: WIRE_VERSION, type: "chunk", id: "j", seq, content });

export function doneEvent(fields: Partial<DoneMessage> = {}, metrics: Partial<DoneMessage["metrics"]> = {}): DoneMessage {
  return {
    v: WIRE_VERSION,
    type: "done",
    id: "j",
    seq: 1,
    done_reason: "stop",
    metrics: { load_duration: 0, prompt_eval_count: 1, prompt_eval_duration: 1, eval_count: 1, eval_duration: 1, ...metrics },
    worker_id: "w",
    ...fields,
  };
}
