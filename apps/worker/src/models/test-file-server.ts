import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Test support only: a local HTTP file server for pull tests, started on a free port. It serves
 * byte ranges (`Range: bytes=N-`), can send an ETag, can be told to cut the connection after a
 * given byte of the file, and can go slowly (chunks with a pause between them).
 */
export interface TestFile {
  /** a path on disk, or the bytes themselves */
  source: string | Buffer;
  /** sent as `ETag: "<etag>"` (a sha256 in hex makes it a digest, as Hugging Face does) */
  etag?: string;
}

export interface TestFileServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** every request: its path and Range header */
  requests: { path: string; range: string | undefined }[];
  /** the next response for a file stops (socket destroyed) once the file's first `bytes` bytes are out */
  cutNextAt(bytes: number): void;
  /** pause between chunks of `chunkBytes` (0: send at once) */
  pace(chunkBytes: number, pauseMs: number): void;
  close(): Promise<void>;
}

export async function startTestFileServer(files: Record<string, TestFile>): Promise<TestFileServer> {
  const requests: TestFileServer["requests"] = [];
  let cutAt: number | undefined;
  let chunkBytes = 0;
  let pauseMs = 0;

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    requests.push({ path, range: request.headers.range });
    const file = files[path];
    if (!file) {
      response.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    const body = typeof file.source === "string" ? await readFile(file.source) : file.source;
    const headers: Record<string, string> = { "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes" };
    if (file.etag) headers.ETag = `"${file.etag}"`;
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? "");
    if (range) {
      start = Number(range[1]);
      if (start >= body.length) {
        response.writeHead(416, { "Content-Range": `bytes */${body.length}` }).end();
        return;
      }
      headers["Content-Range"] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    headers["Content-Length"] = String(body.length - start);
    response.writeHead(range ? 206 : 200, headers);
    const cut = cutAt;
    cutAt = undefined;
    const end = cut !== undefined ? Math.max(start, Math.min(cut, body.length)) : body.length;
    const step = chunkBytes > 0 ? chunkBytes : end - start;
    for (let at = start; at < end; at += step) {
      if (response.destroyed) return;
      response.write(body.subarray(at, Math.min(at + step, end)));
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    if (cut !== undefined) {
      // Let the bytes leave, then drop the connection mid-body.
      await new Promise((resolve) => setTimeout(resolve, 50));
      response.socket?.destroy();
      return;
    }
    response.end();
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    cutNextAt: (bytes) => (cutAt = bytes),
    pace: (bytes, ms) => {
      chunkBytes = bytes;
      pauseMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
