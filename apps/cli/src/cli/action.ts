import { Option, type Command } from "commander";
import { resolveHost } from "../client/host.ts";
import { OllamaClient } from "../client/ollama-client.ts";

/**
 * Wraps a command's action: a thrown error prints `Error: <message>` on stderr and exits 1
 * (as Ollama's CLI does); a returned number is the exit code.
 */
export function action<A extends unknown[]>(run: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await run(...args);
      if (typeof code === "number") process.exitCode = code;
    } catch (error) {
      process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  };
}

export interface HostOptions {
  host?: string;
}

/** Adds `--host` to a command that talks to a server. */
export function hostOption(command: Command): Command {
  return command.addOption(new Option("--host <host>", "the server: host:port or http(s)://host[:port] (default: CARAVAN_HOST, OLLAMA_HOST or 127.0.0.1:11434)"));
}

export function clientFor(options: HostOptions): OllamaClient {
  return new OllamaClient(resolveHost(options.host));
}

/** The exit code of a command stopped by Ctrl+C (128 + SIGINT), as shells report it. */
export const INTERRUPTED = 130;

/**
 * `caravan run m "…" | head -1`: once the reader goes away, stop quietly instead of crashing on
 * EPIPE (what `cat` and Ollama do).
 */
export function exitQuietlyOnBrokenPipe(): void {
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(0);
    throw error;
  });
}
