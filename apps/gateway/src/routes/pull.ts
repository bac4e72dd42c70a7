import { stream } from "hono/streaming";
import { ModelSourceError, parsePullSource, PullRequest, type PullSource } from "@caravan/protocol";
import { readBody } from "../body.ts";
import type { GatewayApp, GatewayDeps } from "../deps.ts";
import { badRequest, HttpError } from "../errors.ts";
import { pullTargets } from "../manage/folders.ts";
import { describeFailures, startPull } from "../manage/pull-run.ts";

/**
 * POST /api/pull: every live worker (or those in `workers`), one per models folder, downloads
 * the GGUF file named by `model` (hf:… or an https URL). Streams Ollama's progress lines, the
 * workers' byte counts summed into one bar, then `success`, or a last `{"error"}` line. A client
 * that goes away cancels the download (a later pull resumes it).
 */
export function registerPullRoute(app: GatewayApp, deps: GatewayDeps): void {
  app.post("/api/pull", async (c) => {
    const { body } = await readBody(c, PullRequest);
    const source = readSource(body.model, body.insecure);
    const targets = pullTargets(await deps.transport.workers(), body.workers);
    const controller = new AbortController();
    const clientGone = () => controller.abort(new Error("client disconnected"));
    const signal = c.req.raw.signal;
    signal.addEventListener("abort", clientGone, { once: true });
    if (signal.aborted) clientGone();
    deps.log.info({ source: body.model, url: source.url, workers: targets.map((w) => w.worker_id) }, "pull started");
    const run = startPull(deps.transport, source, targets, controller.signal);

    if (!body.stream) {
      for await (const _ of run.lines);
      const { failures, pulledOn } = await run.outcome;
      signal.removeEventListener("abort", clientGone);
      if (failures.length > 0) {
        const status = failures.every((failure) => failure.code === "bad_request") ? 400 : 500;
        throw new HttpError(status, "pull_failed", describeFailures(failures, pulledOn));
      }
      return c.json({ status: "success" });
    }

    c.header("Content-Type", "application/x-ndjson");
    return stream(c, async (out) => {
      out.onAbort(clientGone);
      const write = (line: object) => out.write(`${JSON.stringify(line)}\n`);
      try {
        await write({ status: "pulling manifest" });
        for await (const line of run.lines) if (!out.aborted) await write(line);
        const { failures, pulledOn } = await run.outcome;
        if (out.aborted) return;
        if (failures.length > 0) {
          deps.log.warn({ source: body.model, failures }, "pull failed");
          await write({ error: describeFailures(failures, pulledOn) });
        } else {
          await write({ status: "success" });
        }
      } finally {
        signal.removeEventListener("abort", clientGone);
      }
    });
  });
}

function readSource(model: string, insecure: boolean): PullSource {
  try {
    return parsePullSource(model, insecure);
  } catch (error) {
    if (error instanceof ModelSourceError) throw badRequest(error.message);
    throw error;
  }
}
