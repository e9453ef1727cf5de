import { parentPort, workerData } from 'node:worker_threads';
import { runRange } from './seed-range.js';

// One slice of a `pnpm simulate --workers n` run; progress goes back to the main thread.
const { from, count } = workerData as { from: number; count: number };
await runRange(from, count, (progress) => parentPort!.postMessage(progress));
