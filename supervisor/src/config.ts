import { readFileSync } from 'node:fs';
import type { ProcessSpec } from './supervisor.js';

/** What ./scripts/start writes to .run/supervisor.json (no secrets: the admin token comes from the environment). */
export interface SupervisorConfig {
  /** Port of the control surface on 127.0.0.1. */
  controlPort: number;
  processes: ProcessSpec[];
}

export function readConfig(path: string): SupervisorConfig {
  const config = JSON.parse(readFileSync(path, 'utf8')) as SupervisorConfig;
  if (!Number.isInteger(config.controlPort) || !Array.isArray(config.processes))
    throw new Error(`${path}: expected { controlPort, processes: [...] }`);
  return config;
}

/** The default control port; `SUPERVISOR_PORT` overrides it for start and for `pnpm system`. */
export const defaultControlPort = 3900;
