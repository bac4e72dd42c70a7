import { isIP } from "node:net";

export const DEFAULT_HOST = "127.0.0.1:11434";
const DEFAULT_PORT = "11434";

/** Where the client commands connect: `--host`, else CARAVAN_HOST, else OLLAMA_HOST, else 127.0.0.1:11434. */
export function resolveHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return baseUrl(flag || env.CARAVAN_HOST || env.OLLAMA_HOST || DEFAULT_HOST);
}

/**
 * A host spec as Ollama reads OLLAMA_HOST, turned into a base URL: `host:port`, `host`, `:port`,
 * `[::1]:port`, `http://host[:port][/path]`, `https://…`. Without a scheme the port defaults to
 * 11434, with one to the scheme's own; a bind-all address (0.0.0.0, ::, empty) means this machine.
 */
export function baseUrl(spec: string): string {
  const trimmed = spec.trim();
  const cut = trimmed.indexOf("://");
  const scheme = cut === -1 ? "http" : trimmed.slice(0, cut).toLowerCase();
  if (scheme !== "http" && scheme !== "https") throw new HostError(spec, `scheme must be http or https, not ${scheme}`);
  const defaultPort = cut === -1 ? DEFAULT_PORT : scheme === "https" ? "443" : "80";
  const rest = cut === -1 ? trimmed : trimmed.slice(cut + 3);
  const slash = rest.indexOf("/");
  const hostPort = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? "" : rest.slice(slash).replace(/\/+$/, "");

  let { host, port } = splitHostPort(hostPort) ?? { host: hostPort.replace(/^\[(.*)\]$/, "$1"), port: defaultPort };
  if (!/^\d+$/.test(port) || Number(port) > 65_535) throw new HostError(spec, `port must be a number from 0 to 65535`);
  if (host === "" || host === "0.0.0.0") host = "127.0.0.1";
  if (host === "::") host = "::1";
  const hostText = isIP(host) === 6 ? `[${host}]` : host;
  return `${scheme}://${hostText}:${Number(port)}${path}`;
}

/** Go's net.SplitHostPort: `host:port` or `[v6]:port`; undefined when there is no port. */
function splitHostPort(text: string): { host: string; port: string } | undefined {
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(text);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2]! };
  const colon = text.lastIndexOf(":");
  if (colon === -1 || text.indexOf(":") !== colon) return undefined;
  return { host: text.slice(0, colon), port: text.slice(colon + 1) };
}

export class HostError extends Error {
  constructor(spec: string, why: string) {
    super(`invalid host "${spec}": ${why}`);
    this.name = "HostError";
  }
}
