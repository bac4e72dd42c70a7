import { readFile } from "node:fs/promises";
import { describeZodError, KNOWN_OPTION_KEYS, ModelOptions, type ChatMessage } from "@caravan/protocol";

/**
 * A model's sidecar: `NAME.modelfile` beside `NAME.gguf`, in Ollama's Modelfile syntax, giving the
 * model defaults without touching the GGUF. Honoured instructions:
 * - `PARAMETER name value`: default options (a request's own options win); `stop` may repeat.
 * - `SYSTEM text`: the system prompt when a conversation has none.
 * - `TEMPLATE text`: a chat template used instead of the GGUF's. caravan renders Jinja (the
 *   templates GGUF files carry), not Ollama's Go templates.
 * - `MESSAGE role text`: turns put before every conversation (few-shot examples).
 * - `LICENSE text`: reported by /api/show.
 * - `FROM`: ignored (the model is the GGUF beside it).
 * Anything else (ADAPTER, REQUIRES, unknown words) is reported as a problem and skipped.
 * Values may be quoted ("…") or span lines between triple quotes ("""…""").
 */
export interface Sidecar {
  /** the file's path */
  path: string;
  parameters: ModelOptions;
  system?: string;
  template?: string;
  messages: ChatMessage[];
  license?: string;
  /** what could not be honoured, one line each (logged by the worker) */
  problems: string[];
  /** the parameters as Modelfile lines (`name value`), for /api/show */
  parametersText: string;
}

/** Reads `path` if it exists; undefined when there is no sidecar. */
export async function readSidecar(path: string): Promise<Sidecar | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return parseSidecar(text, path);
}

/** Parses Modelfile text. Never throws: what it cannot use goes to `problems`. */
export function parseSidecar(text: string, path = "<modelfile>"): Sidecar {
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};
  const lines: string[] = [];
  const sidecar: Sidecar = { path, parameters: {}, messages: [], problems, parametersText: "" };

  for (const { instruction, args, line } of instructions(text, problems)) {
    switch (instruction) {
      case "from":
        break;
      case "parameter": {
        const match = /^(\S+)\s+([\s\S]+)$/.exec(args);
        if (!match) {
          problems.push(`line ${line}: PARAMETER needs a name and a value`);
          break;
        }
        const [, name, value] = match as unknown as [string, string, string];
        const key = name.toLowerCase();
        if (!KNOWN_OPTION_KEYS.has(key)) {
          problems.push(`line ${line}: unknown parameter ${name}`);
          break;
        }
        const parsed = parseValue(unquote(value));
        if (key === "stop") raw.stop = [...((raw.stop as string[] | undefined) ?? []), String(parsed)];
        else raw[key] = parsed;
        lines.push(`${key.padEnd(30)} ${key === "stop" ? JSON.stringify(String(parsed)) : String(parsed)}`);
        break;
      }
      case "system":
        sidecar.system = unquote(args);
        break;
      case "template":
        sidecar.template = unquote(args);
        break;
      case "license":
        sidecar.license = unquote(args);
        break;
      case "message": {
        const match = /^(system|user|assistant)\s+([\s\S]+)$/i.exec(args);
        if (!match) {
          problems.push(`line ${line}: MESSAGE needs a role (system, user or assistant) and a text`);
          break;
        }
        sidecar.messages.push({ role: match[1]!.toLowerCase() as ChatMessage["role"], content: unquote(match[2]!) });
        break;
      }
      default:
        problems.push(`line ${line}: ${instruction.toUpperCase()} is not supported by caravan; skipped`);
    }
  }

  const options = ModelOptions.safeParse(raw);
  if (options.success) sidecar.parameters = options.data;
  else problems.push(`PARAMETER: ${describeZodError(options.error).replace(/^options\./, "")}`);
  sidecar.parametersText = options.success ? lines.join("\n") : "";
  return sidecar;
}

/** Instructions with their (possibly multi-line) argument text and the line they start on. */
function* instructions(text: string, problems: string[]): Generator<{ instruction: string; args: string; line: number }> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i]!.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const match = /^(\S+)\s*([\s\S]*)$/.exec(trimmed)!;
    const start = i + 1;
    let args = match[2]!;
    // A value opened with """ runs to the line that closes it.
    const open = args.indexOf('"""');
    if (open !== -1 && args.indexOf('"""', open + 3) === -1) {
      const parts = [args];
      while (++i < lines.length && !lines[i]!.includes('"""')) parts.push(lines[i]!);
      if (i >= lines.length) {
        problems.push(`line ${start}: """ is never closed`);
        return;
      }
      parts.push(lines[i]!);
      args = parts.join("\n").trim();
    }
    yield { instruction: match[1]!.toLowerCase(), args, line: start };
  }
}

/** `"""text"""` or `"text"` → text (triple-quoted text keeps its inner newlines, minus the ones next to the quotes). */
function unquote(value: string): string {
  const trimmed = value.trim();
  if (trimmed.startsWith('"""') && trimmed.endsWith('"""') && trimmed.length >= 6) return trimmed.slice(3, -3).replace(/^\n/, "").replace(/\n$/, "");
  if (trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length >= 2) {
    try {
      return JSON.parse(trimmed) as string;
    } catch {
      return trimmed.slice(1, -1);
    }
  }
  return trimmed;
}

/** A parameter value as Ollama reads it: a number or a boolean when it looks like one, else text. */
function parseValue(value: string): string | number | boolean {
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  if (value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return value;
}
