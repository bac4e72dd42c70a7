import { ServerResponse } from "node:http";
import type { Context } from "hono";
import { stream } from "hono/streaming";
import type { HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import type { StartedJob } from "./started-job.ts";

/**
 * Where a streamed answer's text goes. `write` returns a promise only while the client reads
 * slower than the job writes: wait for it before writing more. Most writes return nothing, so
 * a token costs no promise of its own.
 */
export interface TextSink {
  write(text: string): Promise<unknown> | undefined;
  /** the client went away: write nothing more */
  readonly closed: boolean;
}

/** The header by which @hono/node-server knows that a handler wrote its response itself. */
const [SENT_MARKER] = RESPONSE_ALREADY_SENT.headers.keys();

/**
 * Answers 200 with the text `produce` writes, as it is written (chunked), under the headers the
 * context holds. A client that goes away cancels the job; the job is finished once the answer
 * is written or abandoned.
 *
 * Under @hono/node-server the text goes straight to Node's ServerResponse: Hono's `stream()`
 * would pass every write through a web TransformStream and a reader, which cost a measurable
 * share of the gateway's CPU and garbage at a thousand concurrent streams.
 */
export function streamText(c: Context, job: StartedJob, produce: (out: TextSink) => Promise<void>): Response {
  const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
  if (outgoing instanceof ServerResponse) return writeToNode(c, outgoing, job, produce);
  // No Node response under this request (app.request, app.fetch in tests): Hono's web stream.
  return stream(c, async (out) => {
    out.onAbort(job.cancel);
    try {
      await produce({
        write: (text) => out.write(text),
        get closed() {
          return out.aborted;
        },
      });
    } finally {
      job.finish();
    }
  });
}

function writeToNode(c: Context, res: ServerResponse, job: StartedJob, produce: (out: TextSink) => Promise<void>): Response {
  let cancelled = false;
  const cancel = () => {
    if (cancelled) return;
    cancelled = true;
    job.cancel();
  };
  // Listening now, not when writing starts: the client may leave in between.
  res.once("close", () => {
    if (!res.writableEnded) cancel();
  });
  // The headers are written once the middleware after this handler has run, since middleware
  // may add headers there (hono/cors appends `Vary: Origin` after the handler). That runs on
  // promises alone, and a tick queued from a promise callback runs only once no promise
  // callback is left: as soon as the middleware is done, where setImmediate would wait for the
  // rest of the event loop's turn.
  queueMicrotask(() => process.nextTick(pump, c, res, job, produce, cancel));
  // Hono merges this response with the headers set on the context so far, as it would a body.
  const response = c.body(null, { headers: RESPONSE_ALREADY_SENT.headers });
  // Under @hono/node-server, c.body builds its "light" Response, which it writes out by itself
  // (and would end this answer empty) without looking for the already-sent marker. Reading the
  // body makes it a real Response, which it checks. (It used to happen by the way, when CORS
  // set a header after the handler and Hono copied the response.)
  void response.body;
  return response;
}

async function pump(c: Context, res: ServerResponse, job: StartedJob, produce: (out: TextSink) => Promise<void>, cancel: () => void): Promise<void> {
  try {
    // The client left already, or an error after the handler replaced this answer (and
    // @hono/node-server wrote that one): nobody will read the job's text.
    if (res.destroyed || res.headersSent) {
      cancel();
      return;
    }
    writeHead(res, c.res);
    await produce(sinkOf(res));
    if (!res.destroyed) res.end();
  } catch (error) {
    // Reported as Hono's stream() reports a failing callback. Nobody will read the rest, and
    // the client gets a cut-off answer rather than one that looks complete.
    console.error(error);
    cancel();
    res.destroy();
  } finally {
    job.finish();
  }
}

/** The status and headers of Hono's final response, less the marker meant for @hono/node-server. */
function writeHead(res: ServerResponse, final: Response): void {
  // Headers iterates each Set-Cookie on its own; appendHeader keeps them all.
  for (const [name, value] of final.headers) if (name !== SENT_MARKER) res.appendHeader(name, value);
  res.writeHead(final.status);
}

function sinkOf(res: ServerResponse): TextSink {
  return {
    // A write to a response whose client left returns false too, and no drain will come.
    write: (text) => (res.write(text) || res.destroyed ? undefined : drained(res)),
    get closed() {
      return res.destroyed;
    },
  };
}

/** Resolves when `res` takes more, or never will (the client left). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
