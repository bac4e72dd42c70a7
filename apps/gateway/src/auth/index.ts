export { RedisKeys } from "./redis-keys.ts";
export { StaticKeys } from "./static-keys.ts";
export { KeyRing } from "./key-ring.ts";
export { parseKeysFile, hashKey, type ApiKeyRecord, type KeyLimits } from "./key-record.ts";
