import { describe, expect, it } from "vitest";
import { baseUrl, resolveHost } from "./host.ts";

describe("baseUrl (Ollama's OLLAMA_HOST rules)", () => {
  it.each([
    ["127.0.0.1:11434", "http://127.0.0.1:11434"],
    ["localhost", "http://localhost:11434"],
    [":8080", "http://127.0.0.1:8080"],
    ["0.0.0.0:11434", "http://127.0.0.1:11434"],
    ["[::1]:9000", "http://[::1]:9000"],
    ["::1", "http://[::1]:11434"],
    ["[::]:11434", "http://[::1]:11434"],
    ["http://example.internal", "http://example.internal:80"],
    ["https://example.internal", "https://example.internal:443"],
    ["http://10.0.0.5:11434/", "http://10.0.0.5:11434"],
    ["https://gw.example/ollama/", "https://gw.example:443/ollama"],
    ["  example:1234  ", "http://example:1234"],
  ])("%s → %s", (spec, url) => expect(baseUrl(spec)).toBe(url));

  it("refuses a bad port or scheme with a message naming the value", () => {
    expect(() => baseUrl("host:abc")).toThrow('invalid host "host:abc": port must be a number from 0 to 65535');
    expect(() => baseUrl("host:70000")).toThrow("port must be");
    expect(() => baseUrl("ftp://host")).toThrow("scheme must be http or https");
  });
});

describe("resolveHost", () => {
  it("takes --host, then CARAVAN_HOST, then OLLAMA_HOST, then the default", () => {
    expect(resolveHost("a:1", { CARAVAN_HOST: "b:2", OLLAMA_HOST: "c:3" })).toBe("http://a:1");
    expect(resolveHost(undefined, { CARAVAN_HOST: "b:2", OLLAMA_HOST: "c:3" })).toBe("http://b:2");
    expect(resolveHost(undefined, { OLLAMA_HOST: "c:3" })).toBe("http://c:3");
    expect(resolveHost(undefined, {})).toBe("http://127.0.0.1:11434");
    expect(resolveHost(undefined, { CARAVAN_HOST: "" , OLLAMA_HOST: "" })).toBe("http://127.0.0.1:11434");
  });
});
