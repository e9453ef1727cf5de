import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  /** Microseconds on the monotonic clock, the one `process.hrtime` reads in every process. */
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one function or one code owner, as a share of the samples. */
export interface Hotspot {
  name: string;
  share: number;
}

export interface ProfileSummary {
  /** Sampled time on the main thread, and how much of it was idle. Shares are of the busy time. */
  busySeconds: number;
  idleSeconds: number;
  /** Self time per package (or `node:` internals, our own libs/apps, GC, idle). */
  owners: Hotspot[];
  functions: Hotspot[];
}

/** Who owns the code at `url`: an npm package, Node itself, our source tree, or V8 (GC, idle). */
function ownerOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(url);
  if (pkg) return pkg[1]!;
  const ours = /\/((?:apps|libs)\/[^/]+)\//.exec(url);
  return ours ? ours[1]! : url;
}

const shortUrl = (url: string) =>
  url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/((?:apps|libs)\/)/, '$1');

function top(selfTimes: Map<string, number>, total: number, count: number): Hotspot[] {
  return [...selfTimes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, share: us / total }));
}

/**
 * Adds up self time in V8 `.cpuprofile` files (the inspector's `Profiler.stop` result), counting
 * only the samples taken between `fromUs` and `toUs` (`process.hrtime.bigint() / 1000n`).
 */
export async function summarizeCpuProfiles(
  files: string[],
  fromUs: number,
  toUs: number,
  count = 12,
): Promise<ProfileSummary> {
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i] ?? 0;
      at += us;
      if (at < fromUs || at > toUs) return;
      const frame = nodes.get(id)!.callFrame;
      if (frame.functionName === '(idle)') {
        idle += us;
        return;
      }
      total += us;
      const owner = ownerOf(frame);
      owners.set(owner, (owners.get(owner) ?? 0) + us);
      const fn = frame.url
        ? `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`
        : frame.functionName;
      functions.set(fn, (functions.get(fn) ?? 0) + us);
    });
  }
  return {
    busySeconds: total / 1e6,
    idleSeconds: idle / 1e6,
    owners: top(owners, total, count),
    functions: top(functions, total, count),
  };
}
