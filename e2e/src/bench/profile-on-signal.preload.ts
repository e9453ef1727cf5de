/**
 * Preloaded into a service (`NODE_OPTIONS=--import …`) by the saga benchmark's `--cpu-prof`: the
 * V8 CPU profiler runs from start-up, and SIGUSR2 writes what it sampled into
 * BENCH_CPU_PROFILE_DIR; the benchmark keeps only the samples of its measured window.
 * `node --cpu-prof` cannot be used: Node refuses it in NODE_OPTIONS, the only way in through the
 * e2e harness, and it writes only on a clean exit while Nest ends the process by re-raising
 * SIGTERM. Started here rather than on the signal: starting on a warmed-up service stalls its
 * event loop while V8 logs every compiled function.
 */
import { rename, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';

const dir = process.env.BENCH_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  process.once('SIGUSR2', () => {
    void (async () => {
      // Where the resident memory goes, at the end of the saturated window (before the profile's
      // own allocation): V8's heap spaces, memory outside it (buffers, WebAssembly), and the rest.
      const usage = process.memoryUsage();
      const spaces = Object.fromEntries(
        getHeapSpaceStatistics().map((space) => [space.space_name, space.space_used_size]),
      );
      await writeFile(join(dir, `${process.pid}.memory.json`), JSON.stringify({ usage, spaces }));
      const { profile } = await session.post('Profiler.stop');
      // Written aside, then renamed: the benchmark reads the file as soon as its name appears.
      const file = join(dir, `${process.pid}.cpuprofile`);
      await writeFile(`${file}.partial`, JSON.stringify(profile));
      await rename(`${file}.partial`, file);
    })().catch((error: unknown) => console.error('cpu profile failed', error));
  });
}
