import http from "node:http";

/** Keep-alive sockets without a cap: each concurrent stream holds one. */
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const MAX_STALE_SOCKET_RETRIES = 8;

export interface StreamResult {
  ok: boolean;
  /** tokens received (stamped tokens counted from the text, or eval_count) */
  tokens: number;
  /** request start → first text, ms */
  ttftMs: number;
  /** request start → last text, ms */
  lastTextMs: number;
  /** per token: arrival at the client − generation time stamped by the simulated engine, ms */
  latencies: number[];
  /** per stamped token: its arrival at the client, wall-clock ms */
  arrivals: number[];
  /** per streamed line with text (a chunk): its arrival at the client, wall-clock ms */
  chunks: number[];
  error?: string;
}

type Api = "generate" | "chat";
/** Where a streamed line's text starts: /api/generate's `response`, /api/chat's `message.content`. */
const TEXT_KEY: Record<Api, string> = { generate: '"response":"', chat: '"content":"' };
const wallNow = () => performance.timeOrigin + performance.now();

/**
 * POST /api/generate and read its NDJSON stream with node:http (cheaper per chunk than fetch's web
 * streams, so the client disturbs the figures less). With `stamped`, every token's text is its
 * generation time at the worker (CARAVAN_SIM_STAMP=1) and each gets a latency sample.
 */
export function generate(url: string, body: Record<string, unknown>, stamped: boolean): Promise<StreamResult> {
  return stream(url, "generate", body, stamped);
}

/** POST /api/chat and read its NDJSON stream, as generate() does (no stamps). */
export function chat(url: string, body: Record<string, unknown>): Promise<StreamResult> {
  return stream(url, "chat", body, false);
}

function stream(url: string, api: Api, body: Record<string, unknown>, stamped: boolean, retries = 0): Promise<StreamResult> {
  const payload = JSON.stringify(body);
  const textKey = TEXT_KEY[api];
  const started = performance.now();
  return new Promise((resolve) => {
    const result: StreamResult = { ok: false, tokens: 0, ttftMs: Number.NaN, lastTextMs: Number.NaN, latencies: [], arrivals: [], chunks: [] };
    const req = http.request(`${url}/api/${api}`, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } }, (res) => {
      let pending = "";
      res.setEncoding("utf8");
      const onText = (text: string, now: number) => {
        const at = performance.now() - started;
        if (Number.isNaN(result.ttftMs)) result.ttftMs = at;
        result.lastTextMs = at;
        result.chunks.push(now);
        if (stamped) addStamps(text, now);
      };
      const onLine = (line: string, now: number) => {
          // Fast path for a line that is not the last: only where its text starts and whether it
          // is empty matter (stamped text is digits and spaces only, so it has no JSON escapes).
          // The client shares the machine with what it measures, and a full parse per token is
          // the largest part of its cost. The last line (done, error) is parsed whole.
          if (line.endsWith('"done":false}')) {
            const at = line.indexOf(textKey);
            if (at !== -1) {
              const text = line.slice(at + textKey.length, line.indexOf('"', at + textKey.length));
              if (text !== "") onText(text, now);
              return;
            }
          }
          const parsed = JSON.parse(line) as { response?: string; message?: { content?: string }; done?: boolean; eval_count?: number; error?: string };
          if (parsed.error) result.error = parsed.error;
          const text = api === "chat" ? parsed.message?.content : parsed.response;
          if (text) onText(text, now);
          if (parsed.done) {
            result.ok = !result.error;
            if (!stamped) result.tokens = parsed.eval_count ?? 0;
          }
      };
      const addStamps = (text: string, now: number) => {
        for (const stamp of text.split(" ")) {
          if (stamp === "") continue;
          result.latencies.push(now - Number(stamp));
          result.arrivals.push(now);
          result.tokens++;
        }
      };
      res.on("data", (data: string) => {
        const now = wallNow();
        pending += data;
        let nl: number;
        while ((nl = pending.indexOf("\n")) !== -1) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line) onLine(line, now);
        }
      });
      res.on("end", () => {
        // a non-streamed answer is one JSON object, maybe without a newline
        if (pending.trim()) onLine(pending, wallNow());
        if (res.statusCode !== 200 && !result.error) result.error = `HTTP ${res.statusCode}`;
        if (res.statusCode !== 200) result.ok = false;
        resolve(result);
      });
      res.on("error", (error) => resolve({ ...result, ok: false, error: String(error) }));
    });
    req.on("error", (error: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed for idleness just as this request went out on it
      // (Node's documented race): the request never reached the server, so send it again. After
      // a wide burst (the warm-up opens ~1,600 sockets) the server closes many idle sockets at
      // once, and the next one the agent hands out may be closing too: each try uses one up.
      if (req.reusedSocket && error.code === "ECONNRESET" && retries < MAX_STALE_SOCKET_RETRIES) return resolve(stream(url, api, body, stamped, retries + 1));
      resolve({ ...result, ok: false, error: String(error) });
    });
    req.end(payload);
  });
}

export interface LoopResult {
  /** every request's result, also those that ended after the window */
  results: StreamResult[];
  /** requests that ended inside the window */
  finishedInWindow: number;
  /** the measured window (after the ramp-up), wall-clock ms */
  window: [number, number];
}

/**
 * `concurrency` clients each sending requests back to back (a closed loop) until `rampMs +
 * durationMs`; the window measured is the last `durationMs`, when every client is busy. The
 * clients start spread evenly over the ramp: started together, clients whose requests all take
 * as long would stay in step, and every few seconds the whole population would arrive in one
 * burst — a thundering herd that real users do not make, and that measures the burst, not the
 * steady state.
 */
export async function closedLoop(concurrency: number, rampMs: number, durationMs: number, send: () => Promise<StreamResult>): Promise<LoopResult> {
  const results: StreamResult[] = [];
  const from = wallNow() + rampMs;
  const to = from + durationMs;
  let finishedInWindow = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, client) => {
      await new Promise((resolve) => setTimeout(resolve, (client / concurrency) * rampMs));
      while (wallNow() < to) {
        const result = await send();
        const now = wallNow();
        if (now >= from && now <= to) finishedInWindow++;
        results.push(result);
      }
    }),
  );
  return { results, finishedInWindow, window: [from, to] };
}

/** Stamped tokens that arrived inside the window, and their latencies. */
export function inWindow(loop: LoopResult): { tokens: number; latencies: number[] } {
  const [from, to] = loop.window;
  const latencies: number[] = [];
  for (const r of loop.results) for (let i = 0; i < r.arrivals.length; i++) if (r.arrivals[i]! >= from && r.arrivals[i]! <= to) latencies.push(r.latencies[i]!);
  return { tokens: latencies.length, latencies };
}

/**
 * The inter-token latency a client sees: the gaps between consecutive chunks of each stream (from
 * its first chunk on, so TTFT is not one), both inside the window, ms. Chunks read from one socket
 * read share their arrival (a gap of 0: they came together).
 */
export function chunkGaps(loop: LoopResult): number[] {
  const [from, to] = loop.window;
  const gaps: number[] = [];
  for (const { chunks } of loop.results) for (let i = 1; i < chunks.length; i++) if (chunks[i - 1]! >= from && chunks[i]! <= to) gaps.push(chunks[i]! - chunks[i - 1]!);
  return gaps;
}
