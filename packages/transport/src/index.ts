export * from "./types.ts";
export * from "./sequencer.ts";
export { TransportUnavailableError } from "./unavailable.ts";
export { InMemoryTransport } from "./in-memory.ts";
export { RedisGatewayTransport } from "./redis/gateway.ts";
export { RedisWorkerTransport } from "./redis/worker.ts";
export type { RedisTransportOptions } from "./redis/options.ts";
export { redisNames } from "./redis/keys.ts";
export { luaScript } from "./redis/lua-script.ts";
