#!/usr/bin/env node
// The CLI proper is compiled to dist/ by `npm run build` (run by `prepare`, so `npm ci` builds it).
import '../dist/src/cli/main.js';
