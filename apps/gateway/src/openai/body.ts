import type { Context } from "hono";
import type { Logger } from "pino";
import { z } from "zod";
import { describeZodError, formatIssuePath } from "@caravan/protocol";
import { readBody } from "../body.ts";
import { InvalidParamError } from "./errors.ts";

const AnyObject = z.record(z.string(), z.unknown());

/**
 * Reads and validates an OpenAI request body. A bad field is a 400 whose `param` names it;
 * keys the schema does not know are dropped and logged (OpenAI grows fields faster than we do).
 */
export async function readOpenAiBody<S extends z.ZodObject>(c: Context, schema: S, log: Logger): Promise<z.infer<S>> {
  const { raw } = await readBody(c, AnyObject);
  const result = schema.safeParse(raw);
  if (!result.success) {
    const path = formatIssuePath(result.error.issues[0]?.path ?? []);
    throw new InvalidParamError(describeZodError(result.error), path || null);
  }
  const unknown = Object.keys(raw).filter((key) => !(key in schema.shape));
  if (unknown.length > 0) log.warn({ path: c.req.path, fields: unknown }, "ignoring unknown fields");
  return result.data;
}
