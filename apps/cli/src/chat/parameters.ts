/**
 * `/set parameter NAME VALUE…`: the options Ollama's CLI accepts (its api.Options fields) with
 * their types, parsed as Ollama's api.FormatParams does. Errors read as Ollama's.
 */
const TYPES = {
  num_keep: "int",
  seed: "int",
  num_predict: "int",
  top_k: "int",
  top_p: "float",
  min_p: "float",
  typical_p: "float",
  repeat_last_n: "int",
  temperature: "float",
  repeat_penalty: "float",
  presence_penalty: "float",
  frequency_penalty: "float",
  stop: "strings",
  num_ctx: "int",
  num_batch: "int",
  num_gpu: "int",
  main_gpu: "int",
  use_mmap: "bool",
  num_thread: "int",
} as const;

export type ParsedParameter = { ok: true; value: number | boolean | string[] } | { ok: false; error: string };

export function parseParameter(name: string, values: readonly string[]): ParsedParameter {
  const type = (TYPES as Record<string, (typeof TYPES)[keyof typeof TYPES]>)[name];
  if (!type) return { ok: false, error: `unknown parameter '${name}'` };
  const first = values[0] ?? "";
  const shown = `[${values.join(" ")}]`;
  switch (type) {
    case "int":
      return /^[+-]?\d+$/.test(first) ? { ok: true, value: Number(first) } : { ok: false, error: `invalid int value ${shown}` };
    case "float": {
      const value = Number(first);
      return first.trim() !== "" && Number.isFinite(value) ? { ok: true, value } : { ok: false, error: `invalid float value ${shown}` };
    }
    case "bool": {
      if (["1", "t", "T", "true", "TRUE", "True"].includes(first)) return { ok: true, value: true };
      if (["0", "f", "F", "false", "FALSE", "False"].includes(first)) return { ok: true, value: false };
      return { ok: false, error: `invalid bool value ${shown}` };
    }
    case "strings":
      return { ok: true, value: [...values] };
  }
}
