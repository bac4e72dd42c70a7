import type { JobEvent } from "@caravan/protocol";
import type { Logger } from "pino";
import type { ApiKeyRecord } from "../auth/key-record.ts";
import { HttpError } from "../errors.ts";
import type { GatewayTelemetry } from "../telemetry/gateway-telemetry.ts";
import type { LimitStore, Quota, Verdict } from "./limit-store.ts";

const EXPLAIN: Record<Exclude<Verdict, { ok: true }>["limit"], (q: Quota) => string> = {
  concurrency: (q) => `at its limit of ${q.maxConcurrent} concurrent requests (CARAVAN_KEY_MAX_CONCURRENT)`,
  rpm: (q) => `at its limit of ${q.rpm} requests per minute (CARAVAN_KEY_RPM)`,
  tpm: (q) => `over its limit of ${q.tpm} tokens per minute (CARAVAN_KEY_TPM)`,
};

/** One request's hold on its key: the slot it took, and its place in fair share. */
export interface KeyTicket {
  /** the job's queue priority (its fair-share tag); none without API keys: arrival order */
  readonly priority: number | undefined;
  /** the job left the queue (a worker `started` it, or it was given up); once */
  queueLeft(started: boolean): void;
  /** the request ended (with this last event): frees the slot and charges its tokens; once */
  end(last: JobEvent | undefined): void;
}

/**
 * Per-key limits and fair share around a job's life: 429 (with Retry-After) before anything is
 * queued when the key is at a limit; a fair-share priority for the queue; the tokens charged, and
 * the usage counted, when it ends. Without a key (auth off) none of it applies: with one caller,
 * fair share is arrival order, and the queue keeps that without a Redis round trip per request.
 */
export class KeyGate {
  constructor(
    private readonly store: LimitStore,
    private readonly defaults: Quota,
    private readonly telemetry: GatewayTelemetry,
    private readonly log: Logger,
  ) {}

  quotaOf(caller: ApiKeyRecord): Quota {
    return {
      maxConcurrent: caller.limits.max_concurrent ?? this.defaults.maxConcurrent,
      rpm: caller.limits.rpm ?? this.defaults.rpm,
      tpm: caller.limits.tpm ?? this.defaults.tpm,
    };
  }

  async enter(model: string, caller: ApiKeyRecord | undefined, jobId: string): Promise<KeyTicket> {
    if (!caller) return NO_TICKET;
    const keyId = caller.id;
    const quota = this.quotaOf(caller);
    const verdict = await this.store.acquire(keyId, quota, jobId);
    if (!verdict.ok) {
      throw new HttpError(429, "rate_limited", `API key '${keyId}' is ${EXPLAIN[verdict.limit](quota)}; retry in ${verdict.retryAfterS}s`, {
        "Retry-After": String(verdict.retryAfterS),
      });
    }
    this.telemetry.keyRequests.add(1, { "caravan.key.id": keyId });
    let priority: number;
    try {
      priority = await this.store.fairEnter(model, keyId);
    } catch (error) {
      await this.store.release(keyId, jobId).catch(() => undefined);
      throw error;
    }
    let left = false;
    let ended = false;
    const warn = (error: unknown) => this.log.warn({ err: error, key: keyId }, "key limits update failed");
    return {
      priority,
      queueLeft: (started) => {
        if (left) return;
        left = true;
        this.store.fairLeave(model, priority, started).catch(warn);
      },
      end: (last) => {
        if (ended) return;
        ended = true;
        if (!left) {
          left = true;
          this.store.fairLeave(model, priority, false).catch(warn);
        }
        this.store.release(keyId, jobId).catch(warn);
        if (last?.type !== "done") return;
        const input = last.metrics.prompt_eval_count;
        const output = last.metrics.eval_count;
        this.store.charge(keyId, input + output).catch(warn);
        this.telemetry.keyTokens.add(input, { "caravan.key.id": keyId, "gen_ai.token.type": "input" });
        this.telemetry.keyTokens.add(output, { "caravan.key.id": keyId, "gen_ai.token.type": "output" });
      },
    };
  }
}

const NO_TICKET: KeyTicket = { priority: undefined, queueLeft: () => undefined, end: () => undefined };
