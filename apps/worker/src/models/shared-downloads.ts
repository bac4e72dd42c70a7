import type { ProgressResponse } from "@caravan/protocol";

type Listener = (progress: ProgressResponse) => void;

interface Download<T> {
  source: string;
  controller: AbortController;
  listeners: Set<Listener>;
  /** the latest report, replayed to a puller who joins late */
  last: ProgressResponse | undefined;
  done: Promise<T>;
}

export interface Puller {
  /** this puller gives up; the download stops when every puller has */
  signal?: AbortSignal;
  onProgress?: Listener;
}

/**
 * One download per file on this worker: a second pull of the same file joins the running one and
 * hears its progress. A puller that gives up leaves at once; the download itself is aborted only
 * when no puller is left.
 */
export class SharedDownloads<T> {
  private readonly running = new Map<string, Download<T>>();

  /**
   * Joins the download of `key` from `source`, starting it with `start` if none runs. A running
   * download of the same key from another source is refused (both would write one file).
   */
  join(key: string, source: string, start: (signal: AbortSignal, progress: Listener) => Promise<T>, puller: Puller = {}): Promise<T> {
    let download = this.running.get(key);
    if (download && download.source !== source) {
      return Promise.reject(new Error(`another pull of ${key} (from ${download.source}) is in progress; wait for it or cancel it`));
    }
    if (!download) {
      const started: Download<T> = { source, controller: new AbortController(), listeners: new Set(), last: undefined, done: undefined as unknown as Promise<T> };
      const progress: Listener = (report) => {
        started.last = report;
        for (const listener of started.listeners) listener(report);
      };
      started.done = Promise.resolve()
        .then(() => start(started.controller.signal, progress))
        .finally(() => this.running.delete(key));
      // A download whose pullers all left still settles; nobody may be waiting for it.
      started.done.catch(() => undefined);
      this.running.set(key, started);
      download = started;
    } else if (download.last) {
      puller.onProgress?.(download.last);
    }
    return this.follow(download, puller);
  }

  /** downloads running now */
  get size(): number {
    return this.running.size;
  }

  private follow(download: Download<T>, puller: Puller): Promise<T> {
    const listener: Listener = (report) => puller.onProgress?.(report);
    download.listeners.add(listener);
    const { signal } = puller;
    return new Promise<T>((resolve, reject) => {
      const leave = () => {
        download.listeners.delete(listener);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        leave();
        if (download.listeners.size === 0) download.controller.abort(signal?.reason);
        reject(signal?.reason instanceof Error ? signal.reason : new Error("pull cancelled"));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      download.done.then(
        (value) => {
          leave();
          resolve(value);
        },
        (error: unknown) => {
          leave();
          reject(error);
        },
      );
    });
  }
}
