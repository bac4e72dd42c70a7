import { describe, expect, it } from "vitest";
import type { Logprob } from "@caravan/protocol";
import { LogprobLedger } from "./logprob-ledger.ts";

const utf8 = (text: string) => [...Buffer.from(text, "utf8")];
const entry = (token: string, logprob = -1, bytes = utf8(token)): Logprob => ({ token, logprob, bytes, top_logprobs: [{ token, logprob, bytes }] });

/** A ledger that has sampled these tokens ("<...>" ones as control tokens). */
function sampled(...tokens: (string | Logprob)[]): LogprobLedger {
  const ledger = new LogprobLedger();
  tokens.forEach((token, i) => {
    const e = typeof token === "string" ? entry(token, -i) : token;
    ledger.sampled(e, !/^<.*>$/.test(e.token));
  });
  return ledger;
}

const brief = (entries: Logprob[]) => entries.map((e) => [e.token, e.logprob, e.bytes]);

describe("LogprobLedger", () => {
  it("gives each token with its text, once, as the text is released", () => {
    const ledger = sampled("Once", " upon", " a");
    expect(brief(ledger.release("Once upon"))).toEqual([
      ["Once", -0, utf8("Once")],
      [" upon", -1, utf8(" upon")],
    ]);
    expect(ledger.release("")).toEqual([]);
    expect(brief(ledger.release(" a"))).toEqual([[" a", -2, utf8(" a")]]);
    expect(ledger.release(" b")).toEqual([]); // nothing sampled is left
  });

  it("keeps top_logprobs as sampled", () => {
    expect(sampled("Hi").release("Hi")[0]!.top_logprobs).toEqual([{ token: "Hi", logprob: -0, bytes: utf8("Hi") }]);
  });

  it("drops a stop sequence's tokens and cuts the token it starts in to the text before it", () => {
    // stop "ack": the content ends with " J", inside the token " Jack"
    const ledger = sampled("Hello", ",", " Jack", ".");
    expect(brief(ledger.release("Hello, J"))).toEqual([
      ["Hello", -0, utf8("Hello")],
      [",", -1, utf8(",")],
      [" J", -2, utf8(" J")],
    ]);
  });

  it("drops control tokens and tokens whose text is skipped (a marker, a tool call)", () => {
    const ledger = sampled("<s>", "Yes", "<think>", "\n", "ok", "</s>");
    expect(brief(ledger.release("Yes"))).toEqual([["Yes", -1, utf8("Yes")]]);
    expect(brief(ledger.release("ok"))).toEqual([["ok", -4, utf8("ok")]]);
  });

  it("gives a token whose leading space is not released without it", () => {
    expect(brief(sampled(" Once", " upon").release("Once upon"))).toEqual([
      ["Once", -0, utf8("Once")],
      [" upon", -1, utf8(" upon")],
    ]);
  });

  it("gives a token split between two releases with each part", () => {
    const ledger = sampled("a", "b\n\nc", "d");
    expect(brief(ledger.release("ab\n"))).toEqual([
      ["a", -0, utf8("a")],
      ["b\n", -1, utf8("b\n")],
    ]);
    expect(brief(ledger.release("\ncd"))).toEqual([
      ["\nc", -1, utf8("\nc")],
      ["d", -2, utf8("d")],
    ]);
  });

  it("puts a character made of byte tokens into the token that completes it", () => {
    // "é" is C3 A9: two byte-fallback tokens, each shown as U+FFFD
    const ledger = sampled("caf", entry("\uFFFD", -1, [0xc3]), entry("\uFFFD", -2, [0xa9]), "!");
    expect(brief(ledger.release("café!"))).toEqual([
      ["caf", -0, utf8("caf")],
      ["", -1, [0xc3]],
      ["é", -2, [0xa9]],
      ["!", -3, utf8("!")],
    ]);
  });

  it("gives text that is not in the sampled tokens' bytes to the held tokens in order", () => {
    // invalid UTF-8 from the model comes out as U+FFFD, which is not among the tokens' bytes
    const ledger = sampled(entry("\uFFFD", -1, [0x80]), "ab", "c");
    const entries = ledger.release("\uFFFDabc!");
    expect(entries.map((e) => e.token).join("")).toBe("\uFFFDabc!");
    expect(entries.flatMap((e) => e.bytes)).toEqual(utf8("\uFFFDabc!"));
    expect(entries.map((e) => e.logprob)).toEqual([-1, -1, -2]);
    expect(ledger.release("x")).toEqual([]);
  });
});
