import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Hono } from "hono";

/**
 * Serves Hono apps as the gateway does (node:http under @hono/node-server), on a free loopback
 * port each, for tests of what only a real Node request and response show. close() ends them all.
 */
export class NodeServers {
  private readonly servers: Server[] = [];

  /** The base URL (with its trailing slash) `app` now answers on. */
  async listen(app: Hono): Promise<string> {
    const server = createServer(getRequestListener(app.fetch));
    this.servers.push(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  async close(): Promise<void> {
    for (const server of this.servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }
}
