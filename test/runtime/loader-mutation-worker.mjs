/**
 * Worker side of loader-mutation.test.ts: runs one object's variants, reporting progress per variant.
 * JavaScript because a worker thread does not inherit vitest's TypeScript transform: it registers tsx
 * before importing the (TypeScript) variants module.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runVariants } = await import('./loader-mutation-variants.ts');
const { name, bytes, seed, count } = workerData;
try {
  const report = runVariants(name, bytes, seed, count, (i) =>
    parentPort.postMessage({ kind: 'progress', i }),
  );
  parentPort.postMessage({ kind: 'done', report });
} catch (e) {
  const cause = e instanceof Error && e.cause instanceof Error ? `\n${e.cause.stack}` : '';
  parentPort.postMessage({
    kind: 'failed',
    message: `${e instanceof Error ? e.message : String(e)}${cause}`,
  });
}
