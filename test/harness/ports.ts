export { freePort } from "@caravan/cli";
