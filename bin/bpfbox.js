#!/usr/bin/env node
// The CLI proper is compiled to dist/ by `npm run build` (run by `prepare`, so `npm ci` builds it).
try {
  await import('../dist/src/cli/main.js');
} catch (e) {
  // Only reached when dist/ is missing or broken: the CLI itself reports every error it meets.
  process.stderr.write(`internal error: cannot load bpfbox (run \`npm run build\`): ${e?.message ?? e}\n`);
  process.exitCode = 70;
}
