import { describe, expect, it } from "vitest";
import { ConfigError } from "@caravan/protocol";
import { loadGatewayConfig, parseListenAddress } from "./config.ts";

describe("CARAVAN_HOST", () => {
  it.each([
    [undefined, { hostname: "127.0.0.1", port: 11434 }],
    ["0.0.0.0:8080", { hostname: "0.0.0.0", port: 8080 }],
    ["localhost", { hostname: "localhost", port: 11434 }],
    [":9000", { hostname: "127.0.0.1", port: 9000 }],
    ["http://10.1.2.3:11434", { hostname: "10.1.2.3", port: 11434 }],
    ["[::1]:11434", { hostname: "::1", port: 11434 }],
  ])("%s", (raw, expected) => expect(parseListenAddress(raw)).toEqual(expected));

  it.each(["host:port", "1.2.3.4:99999", "::1"])("rejects %s", (raw) => expect(parseListenAddress(raw)).toBeUndefined());
});

describe("loadGatewayConfig", () => {
  it("stops on a bad value, naming the variable", () => {
    expect(() => loadGatewayConfig({ CARAVAN_HOST: "x:y" })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ CARAVAN_HOST: "x:y" })).toThrow(/CARAVAN_HOST/);
    expect(() => loadGatewayConfig({ REDIS_URL: "http://nope" })).toThrow(/REDIS_URL/);
    expect(() => loadGatewayConfig({ CARAVAN_MAX_QUEUE: "0" })).toThrow(/CARAVAN_MAX_QUEUE/);
    expect(() => loadGatewayConfig({ CARAVAN_QUEUE_TIMEOUT: "never" })).toThrow(/CARAVAN_QUEUE_TIMEOUT/);
  });

  it("reads the defaults", () => {
    expect(loadGatewayConfig({})).toEqual({
      hostname: "127.0.0.1",
      port: 11434,
      redisUrl: undefined,
      redisPrefix: "caravan",
      maxQueue: 512,
      maxQueuePerModel: 512,
      queueTimeoutMs: 120_000,
      spillBacklog: 4,
      security: expect.objectContaining({ allowOpen: false, maxBodyBytes: 8 * 1024 * 1024, keyDefaults: { maxConcurrent: 0, rpm: 0, tpm: 0 } }),
    });
  });
});
