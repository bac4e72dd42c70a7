import type { GatewayTransport } from "@caravan/transport";
import type { Logger } from "pino";

/** What the HTTP layer needs from the rest of the gateway. */
export interface GatewayDeps {
  transport: GatewayTransport;
  log: Logger;
  version: string;
}
