import { describe, expect, it } from "vitest";
import { CommandReply, ErrorCode } from "@caravan/protocol";
import { EngineClosedError, EngineError, EngineRequestError, GenerationAbortedError } from "./engine/index.ts";
import { WIRE_CODES, wireError, WorkerError, type WorkerErrorCode } from "./errors.ts";
import { NoRoomError, ResidencyClosedError, TooLargeError } from "./residency/index.ts";

/** Every class of the worker's error family, with the code it carries and how jobs and commands report it. */
const FAMILY: Array<{ error: WorkerError; code: WorkerErrorCode; job: ErrorCode; command: NonNullable<CommandReply["code"]> }> = [
  { error: new EngineError("the runner crashed"), code: "engine_error", job: "engine_error", command: "engine_error" },
  { error: new EngineClosedError(), code: "engine_error", job: "engine_error", command: "engine_error" },
  { error: new GenerationAbortedError(), code: "cancelled", job: "cancelled", command: "engine_error" },
  { error: new EngineRequestError("bad schema"), code: "bad_request", job: "bad_request", command: "engine_error" },
  { error: new NoRoomError("no room"), code: "no_room", job: "unavailable", command: "no_room" },
  { error: new TooLargeError("too large"), code: "too_large", job: "bad_request", command: "too_large" },
  { error: new ResidencyClosedError("m"), code: "draining", job: "engine_error", command: "draining" },
];

describe("wireError", () => {
  it.each(FAMILY)("$error.name carries $code: $job in a job, $command in a command", ({ error, code, job, command }) => {
    expect(error).toBeInstanceOf(WorkerError);
    expect(error.code).toBe(code);
    expect(wireError(error, "job").code).toBe(job);
    expect(wireError(error, "command")).toEqual({ code: command, message: error.message });
  });

  it("maps every code to a job code and a command code the protocol accepts", () => {
    for (const [code, wire] of Object.entries(WIRE_CODES)) {
      expect(ErrorCode.safeParse(wire.job).success, code).toBe(true);
      expect(CommandReply.shape.code.safeParse(wire.command).success, code).toBe(true);
    }
    expect(new Set(FAMILY.map((row) => row.code))).toEqual(new Set(Object.keys(WIRE_CODES)));
  });

  it("keeps the error's message, except a cancelled job's, which says the request was cancelled", () => {
    expect(wireError(new NoRoomError("no room for m"), "job")).toEqual({ code: "unavailable", message: "no room for m" });
    expect(wireError(new GenerationAbortedError(), "job")).toEqual({ code: "cancelled", message: "request cancelled" });
    expect(wireError(new GenerationAbortedError(), "command")).toEqual({ code: "engine_error", message: "generation aborted" });
  });

  it("reports anything outside the family as the engine's failure, with its text", () => {
    expect(wireError(new Error("boom"), "job")).toEqual({ code: "engine_error", message: "boom" });
    expect(wireError(new Error("boom"), "command")).toEqual({ code: "engine_error", message: "boom" });
    expect(wireError("a string", "job")).toEqual({ code: "engine_error", message: "a string" });
  });
});
