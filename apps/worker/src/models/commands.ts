import { basename, join } from "node:path";
import { constants } from "node:fs";
import { copyFile, stat } from "node:fs/promises";
import { canonicalModelName, modelFileStem, ModelSourceError, type ProgressResponse, type WorkerCommand } from "@caravan/protocol";
import type { CommandContext, CommandHandler } from "@caravan/transport";
import type { Logger } from "pino";
import { findModel, rememberModelFile, type CatalogEntry } from "../catalog/index.ts";
import type { Residency } from "../residency/index.ts";
import { copyModelFile, deleteModelFile, DestinationExistsError } from "./files.ts";
import { pullModelFile, type PulledFile } from "./pull.ts";
import { SharedDownloads } from "./shared-downloads.ts";

/** While a download runs, its latest progress is sent again this often, so the gateway's idle timeout sees a live worker. */
const PROGRESS_KEEPALIVE_MS = 5000;

export type ModelCommand = Extract<WorkerCommand, { type: "pull" | "delete" | "copy" }>;
type ReplyBody = Awaited<ReturnType<CommandHandler>>;

export interface ModelCommandDeps {
  workerId: string;
  /** absolute path of the models folder */
  modelsDir: string;
  /** the catalog as last scanned */
  entries(): readonly CatalogEntry[];
  residency: Pick<Residency, "unload" | "snapshot">;
  /** rescans the folder and advertises the new state at once */
  refresh(): Promise<void>;
  log: Logger;
}

/** The worker's side of /api/pull, /api/delete and /api/copy: files in its models folder. */
export function modelCommands(deps: ModelCommandDeps): (command: ModelCommand, ctx: CommandContext) => Promise<ReplyBody> {
  const downloads = new SharedDownloads<PulledFile>();

  const download = async (url: string, fileName: string, signal: AbortSignal, progress: (p: ProgressResponse) => void): Promise<PulledFile> => {
    deps.log.info({ url, file: fileName, modelsDir: deps.modelsDir }, "pulling model");
    try {
      const pulled = await pullModelFile({ url, dir: deps.modelsDir, fileName, signal, onProgress: progress });
      if (pulled.facts && pulled.sha256) {
        const info = await stat(pulled.path);
        rememberModelFile(pulled.path, info.size, info.mtimeMs, pulled.facts, pulled.sha256);
      }
      await deps.refresh();
      deps.log.info({ url, file: fileName, bytes: pulled.size }, pulled.downloaded ? "model pulled" : "model already present; not downloaded");
      return pulled;
    } catch (error) {
      deps.log.warn({ url, file: fileName, err: error }, "pull failed");
      throw error;
    }
  };

  const pull = async (command: Extract<ModelCommand, { type: "pull" }>, ctx: CommandContext): Promise<ReplyBody> => {
    let name: string;
    try {
      if (!command.file.toLowerCase().endsWith(".gguf")) throw new ModelSourceError(`'${command.file}' is not a .gguf file name`);
      name = canonicalModelName(modelFileStem(command.file.slice(0, -".gguf".length)));
    } catch (error) {
      return { ok: false, code: "bad_request", message: (error as Error).message };
    }
    // A model already served under another spelling of the name is updated in place, not doubled.
    const fileName = basename(findModel(deps.entries(), name)?.path ?? command.file);
    let last: ProgressResponse | undefined;
    const keepalive = setInterval(() => last && ctx.progress(last), PROGRESS_KEEPALIVE_MS);
    try {
      const pulled = await downloads.join(name, `${command.url}\0${fileName}`, (signal, progress) => download(command.url, fileName, signal, progress), {
        signal: ctx.signal,
        onProgress: (progress) => {
          last = progress;
          ctx.progress(progress);
        },
      });
      const entry = findModel(deps.entries(), name);
      return { ok: true, pulled: { digest: entry?.listed.digest ?? pulled.sha256 ?? "", size: pulled.size, downloaded: pulled.downloaded } };
    } catch (error) {
      return { ok: false, code: "failed", message: error instanceof Error ? error.message : String(error) };
    } finally {
      clearInterval(keepalive);
    }
  };

  const remove = async (command: Extract<ModelCommand, { type: "delete" }>): Promise<ReplyBody> => {
    const entry = findModel(deps.entries(), command.model);
    if (!entry) return { ok: false, code: "model_not_found", message: `model '${command.model}' not found` };
    // Refuse rather than wait: a long generation would hold the client's DELETE for minutes.
    const busy = deps.residency.snapshot().find((copy) => copy.model === entry.name)?.busy ?? 0;
    if (busy > 0) {
      return { ok: false, code: "busy", message: `model '${command.model}' is in use by ${busy} running request(s) on worker ${deps.workerId}; try again when they finish` };
    }
    try {
      await deps.residency.unload(entry.name);
      await deleteModelFile(entry.path);
      // its sidecar (NAME.modelfile) goes with it: a later file of that name must not inherit it
      if (entry.sidecar) await deleteModelFile(entry.sidecar.path);
    } catch (error) {
      return { ok: false, code: "failed", message: `cannot delete ${entry.path}: ${error instanceof Error ? error.message : String(error)}` };
    }
    deps.log.info({ model: entry.name, path: entry.path }, "model deleted");
    await deps.refresh();
    return { ok: true };
  };

  const copy = async (command: Extract<ModelCommand, { type: "copy" }>): Promise<ReplyBody> => {
    const source = findModel(deps.entries(), command.source);
    if (!source) return { ok: false, code: "model_not_found", message: `model '${command.source}' not found` };
    let stem: string;
    try {
      stem = modelFileStem(command.destination);
    } catch (error) {
      return { ok: false, code: "bad_request", message: (error as Error).message };
    }
    const taken = findModel(deps.entries(), stem);
    if (taken) {
      // Copying a model onto itself (or onto an identical copy) changes nothing.
      if (taken.listed.digest === source.listed.digest) return { ok: true };
      return { ok: false, code: "bad_request", message: `destination model '${command.destination}' already exists` };
    }
    const target = join(deps.modelsDir, `${stem}.gguf`);
    try {
      await copyModelFile(source.path, target);
    } catch (error) {
      if (error instanceof DestinationExistsError) return { ok: false, code: "bad_request", message: `destination model '${command.destination}' already exists` };
      return { ok: false, code: "failed", message: `cannot copy ${source.path} to ${target}: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (source.sidecar) {
      // The copy keeps the model's defaults; a sidecar already waiting under the new name wins.
      await copyFile(source.sidecar.path, join(deps.modelsDir, `${stem}.modelfile`), constants.COPYFILE_EXCL).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== "EEXIST") deps.log.warn({ err: error, source: source.sidecar!.path }, "model copied without its sidecar");
      });
    }
    const info = await stat(target);
    const { details } = source.listed;
    const facts = { details, hasChatTemplate: source.hasChatTemplate, capabilities: source.capabilities, contextLength: source.contextLength, kvBytesPerToken: source.kvBytesPerToken, layerCount: source.layerCount };
    rememberModelFile(target, info.size, info.mtimeMs, facts, source.listed.digest);
    deps.log.info({ source: source.name, destination: canonicalModelName(stem), path: target }, "model copied");
    await deps.refresh();
    return { ok: true };
  };

  return (command, ctx) => {
    switch (command.type) {
      case "pull":
        return pull(command, ctx);
      case "delete":
        return remove(command);
      case "copy":
        return copy(command);
    }
  };
}
