import { z } from "zod";
import { describeZodError } from "./errors.ts";
import { parseGoDuration } from "./duration.ts";
import { KeepAliveError, parseKeepAlive } from "./keep-alive.ts";

/**
 * Building blocks for the apps' environment schemas. Each app parses its environment once at
 * boot and refuses to start on a bad value, naming the variable.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** An integer variable with a lower bound; unset or empty means `fallback`. */
export function envInt(min: number, fallback: number) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw.trim() === "") return fallback;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < min) {
        ctx.addIssue({ code: "custom", message: `must be an integer ≥ ${min}, got ${JSON.stringify(raw)}` });
        return z.NEVER;
      }
      return value;
    });
}

/** A keep_alive variable: seconds or a Go duration, as in requests. */
export function envKeepAlive(fallback: string) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      try {
        return parseKeepAlive(raw === undefined || raw.trim() === "" ? fallback : /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: error instanceof KeepAliveError ? error.message : String(error) });
        return z.NEVER;
      }
    });
}

/** An optional string; empty counts as unset. */
export function envString() {
  return z
    .string()
    .optional()
    .transform((raw) => (raw === undefined || raw.trim() === "" ? undefined : raw.trim()));
}

/** Parses `env` with `schema`, or throws ConfigError naming the first bad variable. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(`invalid configuration: ${describeZodError(result.error)}`);
  return result.data;
}

/** A positive duration variable: a Go duration ("2m", "90s") or seconds. */
export function envDuration(fallback: string) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const text = raw === undefined || raw.trim() === "" ? fallback : raw.trim();
      const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : parseGoDuration(text);
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: "custom", message: `must be a positive duration such as "2m" or "90s", got ${JSON.stringify(raw)}` });
        return z.NEVER;
      }
      return ms;
    });
}
