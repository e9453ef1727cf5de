import { readdir, readFile } from 'node:fs/promises';

// /proc/<pid>/stat counts CPU time in clock ticks; USER_HZ is 100 on every Linux build we run on.
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  cpuSeconds: number;
  cmdline: string;
}

async function readProc(pid: number): Promise<ProcStat | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name sits in parentheses and may itself hold spaces or parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
    return {
      pid,
      ppid: Number(fields[1]),
      cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
      cmdline,
    };
  } catch {
    return null; // the process ended while we looked
  }
}

/** Names the processes worth accounting for; `null` ignores one. */
export type Classifier = (proc: { pid: number; ppid: number; cmdline: string }) => string | null;

/** CPU seconds per named group of processes, at one moment. */
export type CpuSnapshot = Map<string, number>;

/** Adds up the CPU time of every process the classifier names. */
export async function cpuSnapshot(classify: Classifier): Promise<CpuSnapshot> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const snapshot: CpuSnapshot = new Map();
  for (const proc of await Promise.all(pids.map(readProc))) {
    if (!proc) continue;
    const group = classify(proc);
    if (group) snapshot.set(group, (snapshot.get(group) ?? 0) + proc.cpuSeconds);
  }
  return snapshot;
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .split(/\s+/)
    .slice(1)
    .map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy: busy / TICKS_PER_SECOND, total: (busy + idle! + iowait!) / TICKS_PER_SECOND };
}

/**
 * Cores used by each group between two snapshots (1.0 = one core busy all the time). Processes
 * that ended in between are not counted, so groups whose processes live across the window
 * (services, pooled database sessions, the broker) are the ones to read.
 */
export function coresUsed(before: CpuSnapshot, after: CpuSnapshot, seconds: number): Map<string, number> {
  const used = new Map<string, number>();
  for (const [group, cpu] of after) used.set(group, (cpu - (before.get(group) ?? 0)) / seconds);
  return new Map([...used].sort((a, b) => b[1] - a[1]));
}

/** The processes the classifier names, grouped by name. */
export async function findProcesses(classify: Classifier): Promise<Map<string, number[]>> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  const found = new Map<string, number[]>();
  for (const proc of await Promise.all(pids.map(readProc))) {
    const group = proc && classify(proc);
    if (group) found.set(group, [...(found.get(group) ?? []), proc.pid]);
  }
  return found;
}

/** Resident memory of a process in MB (`VmRSS` in /proc/<pid>/status), or null once it has ended. */
export async function rssMb(pid: number): Promise<number | null> {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * What a PostgreSQL process is, from its title: a session on one of `databases`, a server
 * background process (WAL writer, checkpointer, autovacuum, …: shared by every database), or
 * another client's session (null: not ours to count).
 */
export function postgresProcess(cmdline: string, databases: string[]): 'session' | 'background' | null {
  if (!cmdline.startsWith('postgres: ')) return null;
  // A session's title is `postgres: <cluster>: <user> <database> <host>(<port>) <state>`.
  const session = /^postgres: (?:[^:]+: )?\S+ (\S+) (?:\S+\(\d+\)|\[local\])/.exec(cmdline);
  if (!session) return 'background';
  return databases.includes(session[1]!) ? 'session' : null;
}
