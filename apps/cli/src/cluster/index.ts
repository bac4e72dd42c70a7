export { startCluster, type ClusterOptions, type RunningCluster } from "./cluster.ts";
export { startRedisServer, type LocalRedis } from "./redis-server.ts";
export { freePort } from "./free-port.ts";
