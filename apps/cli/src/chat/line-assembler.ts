/** What one typed line amounts to. */
export type Assembled =
  /** nothing to do (a blank line) */
  | { kind: "empty" }
  /** inside a `"""` block: more lines to come */
  | { kind: "more" }
  /** a message for the model */
  | { kind: "message"; text: string }
  /** the end of `/set system """…"""` */
  | { kind: "system"; text: string }
  /** a slash command, to run */
  | { kind: "command"; line: string };

const FENCE = '"""';

/**
 * Turns typed lines into messages, as Ollama's CLI does: a line starting with `"""` opens a
 * multi-line message closed by a line ending with `"""`; `/set system """` does the same for a
 * system message; other lines starting with `/` are commands.
 */
export class LineAssembler {
  private mode: "none" | "message" | "system" = "none";
  private buffer = "";

  /** inside a multi-line block (the prompt shows "... ") */
  get continuing(): boolean {
    return this.mode !== "none";
  }

  reset(): void {
    this.mode = "none";
    this.buffer = "";
  }

  feed(line: string): Assembled {
    if (this.mode !== "none") {
      const closed = line.endsWith(FENCE);
      this.buffer += closed ? line.slice(0, -FENCE.length) : `${line}\n`;
      if (!closed) return { kind: "more" };
      const done: Assembled = this.mode === "system" ? { kind: "system", text: this.buffer } : { kind: "message", text: this.buffer };
      this.reset();
      return done.text === "" && done.kind === "message" ? { kind: "empty" } : done;
    }
    if (line.startsWith(FENCE)) return this.open("message", line.slice(FENCE.length));
    // Ollama joins the words of `/set system …` with single spaces
    const system = (/^\/set\s+system\s+(.*)$/s.exec(line)?.[1] ?? "").trim().split(/\s+/).join(" ");
    if (system !== "") return system.startsWith(FENCE) ? this.open("system", system.slice(FENCE.length)) : { kind: "system", text: system };
    if (line.startsWith("/")) return { kind: "command", line };
    return line === "" ? { kind: "empty" } : { kind: "message", text: line };
  }

  private open(mode: "message" | "system", rest: string): Assembled {
    if (rest.endsWith(FENCE)) {
      const text = rest.slice(0, -FENCE.length);
      if (mode === "system") return { kind: "system", text };
      return text === "" ? { kind: "empty" } : { kind: "message", text };
    }
    this.mode = mode;
    this.buffer = `${rest}\n`;
    return { kind: "more" };
  }
}
