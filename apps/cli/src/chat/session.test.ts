import { describe, expect, it } from "vitest";
import { LineAssembler } from "./line-assembler.ts";
import { parseParameter } from "./parameters.ts";
import { ChatSession } from "./session.ts";

describe("ChatSession", () => {
  it("keeps the history and sends it whole with the options and modes", () => {
    const session = new ChatSession("m", { keepAlive: "10m" });
    session.options.temperature = 0;
    session.addUser("hi");
    session.addAssistant("hello", "thought");
    session.addUser("again");
    expect(session.chatRequest()).toEqual({
      model: "m",
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: "hello", thinking: "thought" },
        { role: "user", content: "again" },
      ],
      options: { temperature: 0 },
      keep_alive: "10m",
    });
    expect(session.loadRequest()).toEqual({ model: "m", messages: [], options: { temperature: 0 }, keep_alive: "10m" });
  });

  it("clear forgets the conversation but keeps the system message", () => {
    const session = new ChatSession("m");
    session.addUser("hi");
    session.clear();
    expect(session.messages).toEqual([]);
    session.setSystem("be brief");
    session.addUser("hi");
    session.clear();
    expect(session.messages).toEqual([{ role: "system", content: "be brief" }]);
  });

  it("a system message replaces one that ends the history, else is added (Ollama's rule)", () => {
    const session = new ChatSession("m");
    session.setSystem("one");
    session.setSystem("two");
    expect(session.messages).toEqual([{ role: "system", content: "two" }]);
    session.addUser("hi");
    session.setSystem("three");
    expect(session.messages.map((m) => m.content)).toEqual(["two", "hi", "three"]);
  });

  it("dropLastUser takes back an unanswered message", () => {
    const session = new ChatSession("m");
    session.addUser("hi");
    session.dropLastUser();
    expect(session.messages).toEqual([]);
  });
});

describe("parseParameter (Ollama's FormatParams)", () => {
  it.each([
    ["temperature", ["0.7"], { ok: true, value: 0.7 }],
    ["num_predict", ["-1"], { ok: true, value: -1 }],
    ["seed", ["42"], { ok: true, value: 42 }],
    ["stop", ["<|end|>", "User:"], { ok: true, value: ["<|end|>", "User:"] }],
    ["use_mmap", ["false"], { ok: true, value: false }],
    ["num_ctx", ["2k"], { ok: false, error: "invalid int value [2k]" }],
    ["top_p", ["high"], { ok: false, error: "invalid float value [high]" }],
    ["use_mmap", ["maybe"], { ok: false, error: "invalid bool value [maybe]" }],
    ["colour", ["red"], { ok: false, error: "unknown parameter 'colour'" }],
  ])("%s %j", (name, values, result) => expect(parseParameter(name, values)).toEqual(result));
});

describe("LineAssembler (Ollama's multi-line input)", () => {
  const feedAll = (lines: string[]) => {
    const assembler = new LineAssembler();
    return lines.map((line) => assembler.feed(line));
  };

  it("plain lines are messages, blank lines nothing, slash lines commands", () => {
    expect(feedAll(["hello", "", "/bye"])).toEqual([{ kind: "message", text: "hello" }, { kind: "empty" }, { kind: "command", line: "/bye" }]);
  });

  it('""" opens a block that a line ending with """ closes', () => {
    expect(feedAll(['"""first', "/not a command", 'last"""'])).toEqual([
      { kind: "more" },
      { kind: "more" },
      { kind: "message", text: "first\n/not a command\nlast" },
    ]);
    expect(feedAll(['"""one line"""'])).toEqual([{ kind: "message", text: "one line" }]);
  });

  it("/set system takes one line, or a \"\"\" block", () => {
    expect(feedAll(["/set system   You are   brief."])).toEqual([{ kind: "system", text: "You are brief." }]);
    expect(feedAll(['/set system """You are', 'brief."""'])).toEqual([{ kind: "more" }, { kind: "system", text: "You are\nbrief." }]);
    expect(feedAll(["/set system"])).toEqual([{ kind: "command", line: "/set system" }]);
  });

  it("reset abandons a block (Ctrl+C)", () => {
    const assembler = new LineAssembler();
    assembler.feed('"""half');
    expect(assembler.continuing).toBe(true);
    assembler.reset();
    expect(assembler.feed("fresh")).toEqual({ kind: "message", text: "fresh" });
  });
});
