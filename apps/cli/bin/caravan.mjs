#!/usr/bin/env node
// The `caravan` command: runs the TypeScript CLI through tsx (as every caravan entry point does).
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
