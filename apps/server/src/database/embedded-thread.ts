// The worker-thread side of `startEmbeddedDatabaseThread` (embedded.ts): runs PGlite and its
// socket server on this thread's event loop and tells the parent the URL; a 'stop' message
// closes both, then the thread ends.
import { parentPort, workerData } from 'node:worker_threads';
import { type EmbeddedOptions, startEmbeddedDatabase } from './embedded.js';

const port = parentPort;
if (!port) throw new Error('embedded-thread runs as a worker thread only');
try {
  const db = await startEmbeddedDatabase(workerData as EmbeddedOptions);
  port.on('message', (m: unknown) => {
    if (m !== 'stop') return;
    db.stop().then(
      () => port.postMessage({ stopped: true }),
      (e: unknown) => port.postMessage({ stopped: true, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  port.postMessage({ url: db.url });
} catch (e) {
  port.postMessage({ error: e instanceof Error ? e.message : String(e) });
}
