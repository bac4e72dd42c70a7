import { describe, expect, it } from "vitest";
import type { ShowAnswer } from "../client/types.ts";
import { runCommand } from "./commands.ts";
import { ChatSession } from "./session.ts";

function context(show: ShowAnswer = {}) {
  const session = new ChatSession("m");
  let out = "";
  let err = "";
  return {
    session,
    output: () => ({ out, err }),
    ctx: { session, show: async () => show, out: (t: string) => void (out += t), err: (t: string) => void (err += t) },
  };
}

describe("slash commands", () => {
  it("/bye and /exit end the session", async () => {
    const { ctx } = context();
    expect(await runCommand("/bye", ctx)).toBe("exit");
    expect(await runCommand("/exit", ctx)).toBe("exit");
  });

  it("/clear forgets the history", async () => {
    const { ctx, session, output } = context();
    session.addUser("hi");
    expect(await runCommand("/clear", ctx)).toBe("continue");
    expect(session.messages).toEqual([]);
    expect(output().out).toBe("Cleared session context\n");
  });

  it("/set parameter sets typed options, refuses bad ones as Ollama words it", async () => {
    const { ctx, session, output } = context();
    await runCommand("/set parameter temperature 0", ctx);
    await runCommand("/set parameter stop a b", ctx);
    await runCommand("/set parameter num_predict lots", ctx);
    expect(session.options).toEqual({ temperature: 0, stop: ["a", "b"] });
    expect(output().out).toBe("Set parameter 'temperature' to '0'\nSet parameter 'stop' to 'a, b'\nCouldn't set parameter: \"invalid int value [lots]\"\n");
    await runCommand("/set parameter", ctx);
    expect(output().err).toContain("Available Parameters:");
  });

  it("/set verbose, quiet, format, think", async () => {
    const { ctx, session } = context();
    await runCommand("/set verbose", ctx);
    expect(session.verbose).toBe(true);
    await runCommand("/set format json", ctx);
    expect(session.format).toBe("json");
    await runCommand("/set nothink", ctx);
    expect(session.think).toBe(false);
    await runCommand("/set quiet", ctx);
    expect(session.verbose).toBe(false);
  });

  it("/show info prints the model's table to stderr; /show template and parameters to stdout", async () => {
    const { ctx, session, output } = context({
      details: { family: "llama", parameter_size: "293K", quantization_level: "F32" },
      model_info: { "general.architecture": "llama", "llama.context_length": 2048, "llama.embedding_length": 64 },
      capabilities: ["completion"],
      template: "{{ .Prompt }}",
    });
    session.options.seed = 1;
    await runCommand("/show info", ctx);
    expect(output().err).toBe(
      "  Model\n    architecture        llama    \n    parameters          293K     \n    context length      2048     \n    embedding length    64       \n    quantization        F32      \n\n  Capabilities\n    completion    \n\n",
    );
    await runCommand("/show template", ctx);
    await runCommand("/show parameters", ctx);
    expect(output().out).toBe(
      `{{ .Prompt }}\nModel defined parameters:\n  No additional parameters were specified for this model.\n\nUser defined parameters:\n  ${"seed".padEnd(30)} 1\n\n`,
    );
  });

  it("help, and unknown commands", async () => {
    const { ctx, output } = context();
    await runCommand("/?", ctx);
    expect(output().err).toContain("/clear          Clear session context");
    await runCommand("/frobnicate now", ctx);
    await runCommand("/set colour", ctx);
    expect(output().out).toBe("Unknown command '/frobnicate'. Type /? for help\nUnknown command '/set colour'. Type /? for help\n");
  });
});
