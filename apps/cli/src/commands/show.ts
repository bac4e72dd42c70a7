import type { Command } from "commander";
import { action, clientFor, hostOption, type HostOptions } from "../cli/action.ts";
import { showInfo } from "../format/show-info.ts";

interface ShowOptions extends HostOptions {
  license?: boolean;
  modelfile?: boolean;
  parameters?: boolean;
  system?: boolean;
  template?: boolean;
  verbose?: boolean;
}

const PARTS = ["license", "modelfile", "parameters", "system", "template"] as const;

/** `caravan show MODEL`: `ollama show`'s summary, or one part of it with a flag. */
export function registerShowCommand(program: Command): void {
  hostOption(
    program
      .command("show")
      .description("show information for a model")
      .argument("<model>", "model name")
      .option("--license", "show the license of a model")
      .option("--modelfile", "show the Modelfile of a model")
      .option("--parameters", "show the parameters of a model")
      .option("--system", "show the system message of a model")
      .option("--template", "show the template of a model")
      .option("-v, --verbose", "show detailed model information"),
  ).action(
    action(async (model: string, options: ShowOptions) => {
      const chosen = PARTS.filter((part) => options[part]);
      if (chosen.length > 1) throw new Error("only one of '--license', '--modelfile', '--parameters', '--system', or '--template' can be specified");
      const answer = await clientFor(options).show(model, options.verbose);
      switch (chosen[0]) {
        case undefined:
          process.stdout.write(showInfo(answer, options.verbose ?? false));
          return;
        case "system":
        case "template":
          // printed as they are, with no newline added (Ollama's fmt.Print)
          process.stdout.write(answer[chosen[0]] ?? "");
          return;
        default:
          process.stdout.write(`${answer[chosen[0]] ?? ""}\n`);
      }
    }),
  );
}
