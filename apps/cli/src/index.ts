export * from "./cluster/index.ts";
export { CLI_BIN, SERVER_ENTRY, SERVER_KINDS, serverCommand, type ServerKind } from "./server/entry-point.ts";
