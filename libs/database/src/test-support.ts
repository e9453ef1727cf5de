import { randomBytes } from 'node:crypto';
import { DEFAULT_ADMIN_URL } from './postgres.js';

/** The server the integration specs use: the harness's, else the local default. */
export const adminUrl =
  process.env.TEST_DATABASE_ADMIN_URL ?? process.env.DATABASE_ADMIN_URL ?? DEFAULT_ADMIN_URL;

/** A name no other run uses, for roles and databases that are cluster-wide. */
export const uniqueName = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;
