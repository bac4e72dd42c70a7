import type { ShowAnswer } from "../client/types.ts";
import { showInfo } from "../format/show-info.ts";
import { parseParameter } from "./parameters.ts";
import type { ChatSession } from "./session.ts";

/** What a slash command needs: the session, the model's /api/show, and the two output streams. */
export interface CommandContext {
  session: ChatSession;
  show(): Promise<ShowAnswer>;
  out(text: string): void;
  err(text: string): void;
}

const HELP = `Available Commands:
  /set            Set session variables
  /show           Show model information
  /clear          Clear session context
  /bye            Exit
  /?, /help       Help for a command
  /? shortcuts    Help for keyboard shortcuts

Use """ to begin a multi-line message.

`;

const HELP_SET = `Available Commands:
  /set parameter ...     Set a parameter
  /set system <string>   Set system message
  /set format json       Enable JSON mode
  /set noformat          Disable formatting
  /set verbose           Show LLM stats
  /set quiet             Disable LLM stats
  /set think             Enable thinking
  /set nothink           Disable thinking

`;

const HELP_SHOW = `Available Commands:
  /show info         Show details for this model
  /show license      Show model license
  /show modelfile    Show Modelfile for this model
  /show parameters   Show parameters for this model
  /show system       Show system message
  /show template     Show prompt template

`;

const HELP_SHORTCUTS = `Available keyboard shortcuts:
  Ctrl + a            Move to the beginning of the line (Home)
  Ctrl + e            Move to the end of the line (End)
  Ctrl + k            Delete the sentence after the cursor
  Ctrl + u            Delete the sentence before the cursor
  Ctrl + w            Delete the word before the cursor

  Ctrl + l            Clear the screen
  Ctrl + c            Stop the model from responding
  Ctrl + d            Exit caravan (/bye)

`;

const HELP_PARAMETERS = `Available Parameters:
  /set parameter seed <int>             Random number seed
  /set parameter num_predict <int>      Max number of tokens to predict
  /set parameter top_k <int>            Pick from top k num of tokens
  /set parameter top_p <float>          Pick token based on sum of probabilities
  /set parameter min_p <float>          Pick token based on top token probability * min_p
  /set parameter num_ctx <int>          Set the context size
  /set parameter temperature <float>    Set creativity level
  /set parameter repeat_penalty <float> How strongly to penalize repetitions
  /set parameter repeat_last_n <int>    Set how far back to look for repetitions
  /set parameter num_gpu <int>          The number of layers to send to the GPU
  /set parameter stop <string> <string> ...   Set the stop parameters

`;

/**
 * Runs one slash command of an interactive session, with Ollama's words. `/set system` text is
 * handled by the LineAssembler (it may span lines) and arrives here only without text.
 */
export async function runCommand(line: string, ctx: CommandContext): Promise<"exit" | "continue"> {
  const args = line.trim().split(/\s+/);
  const [command = "", sub, ...rest] = args;
  const { session, out, err } = ctx;
  if (command === "/bye" || command === "/exit") return "exit";
  if (command === "/clear") {
    session.clear();
    out("Cleared session context\n");
  } else if (command === "/?" || command === "/help") {
    if (sub === "set" || sub === "/set") err(HELP_SET);
    else if (sub === "show" || sub === "/show") err(HELP_SHOW);
    else if (sub === "shortcut" || sub === "shortcuts") err(HELP_SHORTCUTS);
    else err(HELP);
  } else if (command === "/set") {
    setCommand(sub, rest, ctx);
  } else if (command === "/show") {
    await showCommand(sub, ctx);
  } else {
    out(`Unknown command '${command}'. Type /? for help\n`);
  }
  return "continue";
}

function setCommand(sub: string | undefined, rest: string[], { session, out, err }: CommandContext): void {
  switch (sub) {
    case undefined:
    case "system":
      return err(HELP_SET);
    case "verbose":
      session.verbose = true;
      return out("Set 'verbose' mode.\n");
    case "quiet":
      session.verbose = false;
      return out("Set 'quiet' mode.\n");
    case "format":
      if (rest[0] !== "json") return out("Invalid or missing format. For 'json' mode use '/set format json'\n");
      session.format = "json";
      return out("Set format to 'json' mode.\n");
    case "noformat":
      session.format = undefined;
      return out("Disabled format.\n");
    case "think":
      session.think = rest[0] ?? true;
      return out(rest[0] ? `Set 'think' mode to '${rest[0]}'.\n` : "Set 'think' mode.\n");
    case "nothink":
      session.think = false;
      return out("Set 'nothink' mode.\n");
    case "parameter": {
      const [name, ...values] = rest;
      if (!name || values.length === 0) return err(HELP_PARAMETERS);
      const parsed = parseParameter(name, values);
      if (!parsed.ok) return out(`Couldn't set parameter: ${JSON.stringify(parsed.error)}\n`);
      session.options[name] = parsed.value;
      return out(`Set parameter '${name}' to '${values.join(", ")}'\n`);
    }
    default:
      return out(`Unknown command '/set ${sub}'. Type /? for help\n`);
  }
}

async function showCommand(sub: string | undefined, { session, show, out, err }: CommandContext): Promise<void> {
  if (sub === undefined) return err(HELP_SHOW);
  const known = ["info", "license", "modelfile", "parameters", "system", "template"];
  if (!known.includes(sub)) return out(`Unknown command '/show ${sub}'. Type /? for help\n`);
  const answer = await show();
  switch (sub) {
    case "info":
      return err(showInfo(answer, false));
    case "license":
      return out(answer.license ? `${answer.license}\n` : "No license was specified for this model.\n");
    case "modelfile":
      return out(`${answer.modelfile ?? ""}\n`);
    case "parameters": {
      let text = "Model defined parameters:\n";
      text += answer.parameters ? answer.parameters.split("\n").map((l) => `  ${l}\n`).join("") : "  No additional parameters were specified for this model.\n";
      text += "\n";
      const options = Object.entries(session.options);
      if (options.length) text += `User defined parameters:\n${options.map(([k, v]) => `  ${k.padEnd(30)} ${Array.isArray(v) ? `[${v.join(" ")}]` : String(v)}\n`).join("")}\n`;
      return out(text);
    }
    case "system": {
      const system = session.system || answer.system;
      return out(system ? `${system}\n\n` : "No system message was specified for this model.\n");
    }
    case "template":
      return out(answer.template ? `${answer.template}\n` : "No prompt template was specified for this model.\n");
  }
}
