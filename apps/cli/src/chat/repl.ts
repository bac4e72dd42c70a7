import readline from "node:readline";
import type { OllamaClient } from "../client/ollama-client.ts";
import { metricsSummary } from "../format/metrics.ts";
import { streamAnswer } from "./answer.ts";
import { runCommand } from "./commands.ts";
import { LineAssembler } from "./line-assembler.ts";
import type { ChatSession } from "./session.ts";

export interface ReplIO {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/**
 * The interactive chat of `caravan run`, as `ollama run`'s: `>>> ` prompts with line editing and
 * history (Node's readline), `"""` blocks, slash commands, answers streamed as they come.
 * Ctrl+C stops an answer and keeps the session; at the prompt it prints a hint. Ctrl+D or /bye
 * ends it. Resolves with the exit code.
 *
 * While an answer streams, the terminal is put back in cooked mode, so Ctrl+C is a real SIGINT
 * (as with Ollama's own readline) and typed text waits for the next prompt. Bracketed paste is
 * on, so pasted lines become one message (sent with the Enter after the paste), as in Ollama.
 */
export function runRepl(client: OllamaClient, session: ChatSession, io: ReplIO): Promise<number> {
  const { stdin, stdout, stderr } = io;
  const rl = readline.createInterface({ input: stdin, output: stdout, terminal: true, historySize: 1000, removeHistoryDuplicates: true });
  const assembler = new LineAssembler();
  const queue: string[] = [];
  let busy = false;
  let inputClosed = false;
  let finished = false;
  let pasting = false;
  let pasted = "";

  return new Promise<number>((resolve) => {
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      stdout.write(PASTE_OFF);
      stdin.off("keypress", onKeypress);
      rl.close();
      resolve(code);
    };
    const prompt = () => {
      rl.setPrompt(assembler.continuing ? "... " : ">>> ");
      rl.prompt();
    };

    // the terminal wraps a paste in paste-start/paste-end keys, which come before and after the
    // pasted lines' own keys: `pasting` is set while readline emits those lines
    const onKeypress = (_text: string | undefined, key: { name?: string } | undefined) => {
      if (key?.name === "paste-start") pasting = true;
      else if (key?.name === "paste-end") pasting = false;
    };
    stdin.on("keypress", onKeypress);
    rl.on("line", (line) => {
      if (pasting) {
        pasted += `${line}\n`;
        return;
      }
      queue.push(pasted + line);
      pasted = "";
      void drain();
    });
    rl.on("SIGINT", () => {
      // clear what was typed, then Ollama's hint
      rl.write(null, { ctrl: true, name: "e" });
      rl.write(null, { ctrl: true, name: "u" });
      assembler.reset();
      pasted = "";
      stdout.write("\nUse Ctrl + d or /bye to exit.\n");
      prompt();
    });
    rl.on("close", () => {
      // Ctrl+D (or the end of input): leave after the turn under way, if any
      inputClosed = true;
      if (!busy && !finished) {
        stdout.write("\n");
        finish(0);
      }
    });

    const drain = async () => {
      if (busy) return;
      busy = true;
      while (queue.length > 0 && !finished) {
        if ((await handle(queue.shift()!)) === "exit") finish(0);
      }
      busy = false;
      if (finished) return;
      if (inputClosed) {
        stdout.write("\n");
        finish(0);
      } else {
        prompt();
      }
    };

    const handle = async (line: string): Promise<"exit" | "continue"> => {
      const input = assembler.feed(line);
      switch (input.kind) {
        case "empty":
        case "more":
          return "continue";
        case "system":
          session.setSystem(input.text);
          stdout.write("Set system message.\n");
          return "continue";
        case "command":
          try {
            return await runCommand(input.line, {
              session,
              show: () => client.show(session.model),
              out: (text) => stdout.write(text),
              err: (text) => stderr.write(text),
            });
          } catch (error) {
            stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
            return "continue";
          }
        case "message":
          await answer(input.text);
          return "continue";
      }
    };

    const answer = async (text: string) => {
      session.addUser(text);
      rl.pause();
      if (stdin.isTTY) stdin.setRawMode(false);
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.on("SIGINT", interrupt);
      try {
        const result = await streamAnswer(client, session.chatRequest(), { out: stdout, spinnerOn: stderr.isTTY ? stderr : undefined, colour: !process.env.NO_COLOR, signal: controller.signal });
        if (result.aborted) {
          // keep what was shown, so the history reads as the screen does
          if (result.content) session.addAssistant(result.content, result.thinking);
          else session.dropLastUser();
          stdout.write("\n");
          return;
        }
        session.addAssistant(result.content, result.thinking);
        stdout.write("\n\n");
        if (session.verbose && result.final) stderr.write(metricsSummary(result.final));
      } catch (error) {
        session.dropLastUser();
        stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
      } finally {
        process.off("SIGINT", interrupt);
        if (stdin.isTTY && !finished) stdin.setRawMode(true);
      }
    };

    stdout.write(PASTE_ON);
    prompt();
  });
}

const PASTE_ON = "\u001b[?2004h";
const PASTE_OFF = "\u001b[?2004l";
