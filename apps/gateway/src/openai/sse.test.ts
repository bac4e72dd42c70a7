import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { ChunkMessage, DoneMessage } from "@caravan/protocol";
import type { StartedJob } from "../respond/started-job.ts";
import { chunkEvent, doneEvent } from "../testing/events.ts";
import { SSE_DONE, sseEvent, streamSse } from "./sse.ts";

type Event = ChunkMessage | DoneMessage | { type: "error"; message: string };

const chunk = (content: string) => chunkEvent(content);
const done = doneEvent({ seq: 2 });

/** A started job that replays `events` (the framing under test does not care where they come from). */
function replay(events: Event[]): StartedJob & { finished: boolean } {
  const job = {
    finished: false,
    events: (async function* () {
      yield* events;
    })(),
    elapsedNs: () => 0,
    finish: () => void (job.finished = true),
    cancel: () => undefined,
  };
  return job;
}

async function serve(job: StartedJob): Promise<Response> {
  const app = new Hono();
  app.get("/", (c) => streamSse(c, job, (event) => [{ text: event.type === "chunk" ? event.content : "end" }]));
  return app.request("/");
}

describe("SSE framing", () => {
  it("writes `data: JSON` events separated by a blank line", () => {
    expect(sseEvent({ a: 1 })).toBe('data: {"a":1}\n\n');
    expect(SSE_DONE).toBe("data: [DONE]\n\n");
  });

  it("streams each frame as an event, then [DONE]", async () => {
    const job = replay([chunk("Once"), chunk(" upon"), done]);
    const response = await serve(job);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(await response.text()).toBe('data: {"text":"Once"}\n\ndata: {"text":" upon"}\n\ndata: {"text":"end"}\n\ndata: [DONE]\n\n');
    expect(job.finished).toBe(true);
  });

  it("ends a stream that failed midway with an OpenAI error event and no [DONE]", async () => {
    const text = await (await serve(replay([chunk("Once"), { type: "error", message: "engine broke" }]))).text();
    expect(text).toBe(`data: {"text":"Once"}\n\ndata: ${JSON.stringify({ error: { message: "engine broke", type: "api_error", param: null, code: "engine_error" } })}\n\n`);
  });

  it("reports a job that ended without a done event", async () => {
    const text = await (await serve(replay([chunk("Once")]))).text();
    expect(text).toMatch(/"the job ended without an answer"/);
    expect(text).not.toContain("[DONE]");
  });
});
