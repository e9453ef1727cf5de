import { readFile } from 'node:fs/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
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
  /** Self time per stage of a saga (see {@link stages}), every stage, in that order. */
  stages: Hotspot[];
}

/**
 * Where a service's CPU goes, by what the code is doing for a saga. The broker stage is kafkajs
 * wherever it is called from (the relay's sends, the consumer's fetches); `PostgreSQL driver` is
 * node-postgres reading replies, which runs in a socket callback with no caller on the stack;
 * `other` is V8 (GC, compiling), Node.js with no caller of ours, and packages no stage claims.
 */
export const stages = [
  'HTTP',
  'order transaction',
  'relay',
  'broker (kafkajs)',
  'consumer',
  'participant transaction',
  'logging',
  'telemetry',
  'validation',
  'Prisma',
  'PostgreSQL driver (pg)',
  'other',
] as const;
export type Stage = (typeof stages)[number];

const packageStages: [RegExp, Stage][] = [
  [
    /^(pino|pino-.*|nestjs-pino|sonic-boom|thread-stream|fast-redact|@pinojs\/.*|quick-format-unescaped|on-exit-leak-free)$/,
    'logging',
  ],
  [
    /^(@opentelemetry\/.*|import-in-the-middle|require-in-the-middle|shimmer|protobufjs|@protobufjs\/.*)$/,
    'telemetry',
  ],
  [/^(zod|class-validator|class-transformer|ajv|validator|libphonenumber-js)$/, 'validation'],
  [/^(@prisma\/.*|prisma)$/, 'Prisma'],
  [/^kafkajs$/, 'broker (kafkajs)'],
  [/^@nestjs\/microservices$/, 'consumer'],
  [
    /^(express|@nestjs\/platform-express|body-parser|raw-body|router|finalhandler|send|serve-static|type-is|content-type|accepts|negotiator|on-finished|etag|fresh|statuses|http-errors|qs|path-to-regexp|cookie|vary|proxy-addr|forwarded)$/,
    'HTTP',
  ],
];

/** Our own code, by path under the repository: the first match wins. */
const sourceStages: [RegExp, Stage | 'service'][] = [
  [/\/apps\/[^/]+\/(dist|src)\/generated\/prisma\//, 'Prisma'],
  [/\/libs\/telemetry\/(dist|src)\/logger\./, 'logging'],
  [/\/libs\/telemetry\//, 'telemetry'],
  [/\/libs\/contracts\//, 'validation'],
  [/\/libs\/http\/(dist|src)\/validated\./, 'validation'],
  [/\/libs\/http\//, 'HTTP'],
  [/\/libs\/outbox\/(dist|src)\/(relay|purge)\./, 'relay'],
  [/\/libs\/platform\/(dist|src)\/outbox-relay\./, 'relay'],
  [/\/libs\/outbox\/(dist|src)\/kafka\./, 'broker (kafkajs)'],
  [/\/libs\/outbox\//, 'service'],
  [/\/libs\/consumer\//, 'consumer'],
  [/\/apps\/[^/]+\//, 'service'],
];

/**
 * The stage a frame's own code belongs to: `strong` (its package or source file says), `weak` (only
 * if nothing above it on the stack says: Node's HTTP parser, the pg driver) or null (framework glue,
 * Node internals, small utilities: the caller decides).
 */
function frameStage(
  frame: ProfileNode['callFrame'],
  service: string,
): { stage: Stage; strong: boolean } | null {
  const { url, functionName } = frame;
  if (!url)
    return ['(garbage collector)', '(program)'].includes(functionName)
      ? { stage: 'other', strong: true }
      : null;
  if (/^node:_?http/.test(url)) return { stage: 'HTTP', strong: false };
  if (url.startsWith('node:')) return null;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(url)?.[1];
  if (pkg) {
    if (/^pg(-protocol|-pool|-types|-connection-string)?$/.test(pkg))
      return { stage: 'PostgreSQL driver (pg)', strong: false };
    const stage = packageStages.find(([pattern]) => pattern.test(pkg))?.[1];
    return stage ? { stage, strong: true } : null;
  }
  const ours = sourceStages.find(([pattern]) => pattern.test(url))?.[1];
  if (ours === 'service')
    return { stage: service === 'order' ? 'order transaction' : 'participant transaction', strong: true };
  return ours ? { stage: ours, strong: true } : null;
}

/**
 * The stage of a sample: its innermost strong frame, else its innermost weak one, else `other`.
 * Instrumentation wraps the pg driver's `query`: above a driver frame, telemetry frames are the
 * wrapper, not the work, and the caller further up (Prisma, a store) decides.
 */
function stageOf(
  id: number,
  nodes: Map<number, ProfileNode>,
  parents: Map<number, number>,
  service: string,
): Stage {
  let weak: Stage | undefined;
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
    const found = frameStage(nodes.get(at)!.callFrame, service);
    if (found?.strong && !(weak && found.stage === 'telemetry')) return found.stage;
    weak ??= found?.stage;
  }
  return weak ?? 'other';
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
 * Adds up self time in V8 `.cpuprofile` files (the inspector's `Profiler.stop` result) of one
 * `service`, counting only the samples taken between `fromUs` and `toUs`
 * (`process.hrtime.bigint() / 1000n`).
 */
export async function summarizeCpuProfiles(
  files: string[],
  service: string,
  fromUs: number,
  toUs: number,
  count = 12,
): Promise<ProfileSummary> {
  const stageTimes = new Map<string, number>(stages.map((stage) => [stage, 0]));
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parents = new Map(
      profile.nodes.flatMap((n) => (n.children ?? []).map((child): [number, number] => [child, n.id])),
    );
    const stageOfNode = new Map<number, Stage>();
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
      let stage = stageOfNode.get(id);
      if (!stage) stageOfNode.set(id, (stage = stageOf(id, nodes, parents, service)));
      stageTimes.set(stage, stageTimes.get(stage)! + us);
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
    stages: [...stageTimes].map(([name, us]) => ({ name, share: us / total })),
  };
}
