export { createApp } from "./app.ts";
export { startGateway, type RunningGateway } from "./server.ts";
export { loadGatewayConfig, parseListenAddress, type GatewayConfig } from "./config.ts";
export { CARAVAN_VERSION } from "./version.ts";
export { place, type Placement, type PlacementInput } from "./routing/placement.ts";
