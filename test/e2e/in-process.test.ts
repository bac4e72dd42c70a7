import { startSingleProcess } from "../harness/cluster.ts";
import { chatSuite } from "./chat-suite.ts";

chatSuite("caravan in one process (pnpm start, no Redis)", () => startSingleProcess());
