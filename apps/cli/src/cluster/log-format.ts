import { prettyFactory } from "pino-pretty";

/**
 * Makes the processes' pino JSON lines readable on a console (time, level, message, fields),
 * leaving any other line as it is. `raw` keeps the JSON (for piping into tools).
 */
export function logFormatter(options: { raw: boolean; colour: boolean }): (line: string) => string {
  if (options.raw) return (line) => line;
  const pretty = prettyFactory({ colorize: options.colour, ignore: "pid,hostname,name", translateTime: "HH:MM:ss.l", singleLine: true });
  return (line) => {
    if (!line.startsWith("{")) return line;
    try {
      return pretty(JSON.parse(line) as object).trimEnd();
    } catch {
      return line;
    }
  };
}
