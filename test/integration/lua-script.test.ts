import { describe, expect, it } from "vitest";
import { luaScript } from "@caravan/transport";
import { useRedis, watchCommands } from "../harness/redis.ts";

const redis = useRedis();

const INCR_BY = `return redis.call('INCRBY', KEYS[1], ARGV[1])`;

describe("luaScript", () => {
  it("runs by digest, not by text, and again after Redis forgot its scripts (as after a restart)", async () => {
    const watch = await watchCommands(redis.url);
    const incrBy = luaScript<number>(redis.client, 1, INCR_BY);

    expect(await incrBy("lua-script:n", 2)).toBe(2);
    expect(await incrBy("lua-script:n", 3)).toBe(5);
    await redis.client.script("FLUSH");
    expect(await incrBy("lua-script:n", 4)).toBe(9);
    await watch.caughtUp(redis.client);
    watch.close();

    // The text goes once per connection; after that the digest. After the flush the digest
    // misses (NOSCRIPT) and the text goes once more.
    const scripted = watch.commands.map(([name]) => name).filter((name) => name === "eval" || name === "evalsha");
    expect(scripted).toEqual(["eval", "evalsha", "evalsha", "eval"]);
  });

  it("binds one command per text on a connection, whoever binds it", async () => {
    const a = luaScript<number>(redis.client, 1, INCR_BY);
    const b = luaScript<number>(redis.client, 1, INCR_BY);
    const other = luaScript<string>(redis.client, 0, `return 'other'`);
    expect(await a("lua-script:m", 1)).toBe(1);
    expect(await b("lua-script:m", 1)).toBe(2);
    expect(await other()).toBe("other");
  });
});
