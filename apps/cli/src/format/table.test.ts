import { describe, expect, it } from "vitest";
import { renderTable } from "./table.ts";

describe("renderTable (Ollama's tablewriter layout)", () => {
  it("pads every cell and the header as `ollama list` does", () => {
    // the expected text is Ollama's own TestListHandler output
    const out = renderTable(
      [
        ["model1", "sha256:abc12", "1.0 KB", "24 hours ago"],
        ["model2", "sha256:def45", "2.0 KB", "2 days ago"],
      ],
      ["NAME", "ID", "SIZE", "MODIFIED"],
    );
    expect(out).toBe(
      "NAME      ID              SIZE      MODIFIED     \n" +
        "model1    sha256:abc12    1.0 KB    24 hours ago    \n" +
        "model2    sha256:def45    2.0 KB    2 days ago      \n",
    );
  });

  it("prints only the header of an empty table, and indented rows without one", () => {
    expect(renderTable([], ["NAME", "ID"])).toBe("NAME    ID \n");
    expect(renderTable([["", "architecture", "test"]])).toBe("    architecture    test    \n");
  });
});
