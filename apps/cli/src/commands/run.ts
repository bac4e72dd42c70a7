import { Option, type Command } from "commander";
import { loadOrUnload, streamAnswer } from "../chat/answer.ts";
import { runRepl } from "../chat/repl.ts";
import { ChatSession } from "../chat/session.ts";
import { action, clientFor, hostOption, INTERRUPTED, type HostOptions } from "../cli/action.ts";
import type { OllamaClient } from "../client/ollama-client.ts";
import { metricsSummary } from "../format/metrics.ts";

interface RunOptions extends HostOptions {
  verbose?: boolean;
  format?: string;
  keepalive?: string;
  think?: string | true;
  hidethinking?: boolean;
}

/** `caravan run MODEL [PROMPT…]`: chat with a model, as `ollama run` does, against any Ollama-compatible server. */
export function registerRunCommand(program: Command): void {
  hostOption(
    program
      .command("run")
      .description("chat with a model: interactive on a terminal, one answer with a PROMPT or piped input")
      .argument("<model>", "model name")
      .argument("[prompt...]", "ask this once and exit")
      .option("--verbose", "show timings for each response")
      .option("--format <format>", 'response format (e.g. "json")')
      .option("--keepalive <duration>", 'how long the model stays loaded (e.g. "5m")')
      .addOption(new Option("--think [level]", "thinking for models that think: true, false, high, medium, low"))
      .option("--hidethinking", "do not show the thinking"),
  ).action(action((model: string, prompt: string[], options: RunOptions) => run(model, prompt, options)));
}

async function run(model: string, promptWords: string[], options: RunOptions): Promise<number> {
  if (options.format && options.format !== "json") throw new Error(`invalid format "${options.format}": only "json" is supported`);
  const client = clientFor(options);
  const prompts = [...promptWords];
  // piped input comes first, then the arguments (Ollama's order)
  if (!process.stdin.isTTY) {
    const piped = await readAll(process.stdin);
    if (piped.length > 0) prompts.unshift(piped);
  }
  const prompt = prompts.join(" ");
  const interactive = prompts.length === 0 && Boolean(process.stdin.isTTY) && Boolean(process.stdout.isTTY);

  const info = await client.show(model);
  const capabilities = info.capabilities ?? [];
  if (capabilities.includes("embedding") && !capabilities.includes("completion")) return embed(client, model, prompt, options.keepalive);

  const session = new ChatSession(model, {
    verbose: options.verbose,
    format: options.format === "json" ? "json" : undefined,
    think: thinkValue(options.think, capabilities),
    keepAlive: options.keepalive,
  });
  const spinnerOn = process.stderr.isTTY ? process.stderr : undefined;

  if (interactive) {
    await loadOrUnload(client, session.loadRequest(), spinnerOn);
    return runRepl(client, session, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
  }
  if (prompt === "") {
    // nothing to ask: load the model, as `ollama run MODEL < /dev/null` does
    await loadOrUnload(client, session.loadRequest());
    return 0;
  }

  session.addUser(prompt);
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once("SIGINT", interrupt);
  try {
    const answer = await streamAnswer(client, session.chatRequest(), {
      out: process.stdout,
      spinnerOn,
      colour: Boolean(process.stdout.isTTY),
      hideThinking: options.hidethinking,
      signal: controller.signal,
    });
    if (answer.aborted) {
      process.stdout.write("\n");
      return INTERRUPTED;
    }
    process.stdout.write("\n\n");
    if (session.verbose && answer.final) process.stderr.write(metricsSummary(answer.final));
    return 0;
  } finally {
    process.off("SIGINT", interrupt);
  }
}

/** `--think`: as given; absent, on for a model that can think (Ollama's default). */
function thinkValue(flag: string | true | undefined, capabilities: string[]): boolean | string | undefined {
  if (flag === undefined) return capabilities.includes("thinking") ? true : undefined;
  if (flag === true || flag === "true") return true;
  if (flag === "false") return false;
  if (["high", "medium", "low"].includes(flag)) return flag;
  throw new Error(`invalid value for --think: "${flag}" (must be true, false, high, medium, or low)`);
}

/** An embedding-only model: print the prompt's vector as JSON (Ollama's behaviour). */
async function embed(client: OllamaClient, model: string, prompt: string, keepAlive: string | undefined): Promise<number> {
  if (prompt === "") throw new Error(`embedding models require input text. Usage: caravan run ${model} "your text here"`);
  const [vector] = await client.embed(model, prompt, keepAlive);
  if (!vector) throw new Error("no embeddings returned");
  process.stdout.write(`${JSON.stringify(vector)}\n`);
  return 0;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += String(chunk);
  return text;
}
