import type { Command } from "commander";
import { action, clientFor, hostOption, INTERRUPTED, type HostOptions } from "../cli/action.ts";
import { PlainPullView, TerminalPullView, type PullView } from "../progress/pull-view.ts";
import { TerminalProgress } from "../progress/terminal-progress.ts";

interface PullOptions extends HostOptions {
  insecure?: boolean;
}

/**
 * `caravan pull MODEL_OR_SOURCE`: POST /api/pull, its progress drawn as Ollama draws it on a
 * terminal (stderr), as plain lines otherwise. Ctrl+C stops it (exit 130).
 */
export function registerPullCommand(program: Command): void {
  hostOption(
    program
      .command("pull")
      .description("pull a model (a registry name, or whatever source the server accepts)")
      .argument("<model>", "model name or source")
      .option("--insecure", "use an insecure registry"),
  ).action(
    action(async (model: string, options: PullOptions) => {
      const client = clientFor(options);
      const view: PullView = process.stderr.isTTY
        ? new TerminalPullView(new TerminalProgress(process.stderr))
        : new PlainPullView((line) => process.stderr.write(`${line}\n`));
      const controller = new AbortController();
      const interrupt = () => controller.abort();
      process.once("SIGINT", interrupt);
      try {
        for await (const update of client.pull(model, options.insecure ?? false, controller.signal)) view.update(update);
      } catch (error) {
        if (controller.signal.aborted) return INTERRUPTED;
        throw error;
      } finally {
        view.finish();
        process.off("SIGINT", interrupt);
      }
    }),
  );
}
