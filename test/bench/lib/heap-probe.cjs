// Preloaded (node --require) into caravan processes by the memory benchmark only, never in
// production: a port on 127.0.0.1 that runs two full collections (--expose-gc) and answers
// process.memoryUsage(), so that the benchmark reads the heap that survives GC. The port is
// written to $BENCH_HEAP_DIR/<pid>. Only the main thread listens (tsx's loader runs in a worker
// thread that preloads this file too).
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { isMainThread } = require("node:worker_threads");

if (process.env.BENCH_HEAP_DIR && isMainThread) {
  const server = http.createServer((_req, res) => {
    global.gc();
    global.gc();
    res.end(JSON.stringify(process.memoryUsage()));
  });
  server.listen(0, "127.0.0.1", () => fs.writeFileSync(path.join(process.env.BENCH_HEAP_DIR, String(process.pid)), String(server.address().port)));
  server.unref();
}
