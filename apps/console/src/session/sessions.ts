import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'console_session';
export const CSRF_HEADER = 'x-csrf-token';

interface Session {
  csrf: string;
  expiresAt: number;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Admin sessions: an operator proves once that they know ADMIN_TOKEN and gets an opaque session
 * id in an HttpOnly, SameSite=Strict cookie, plus a CSRF token that every action must echo in the
 * `x-csrf-token` header. A page on another origin can neither read that token nor set the header
 * on a form post, so it cannot act with the operator's cookie.
 */
export class Sessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly adminToken: string | undefined,
    private readonly ttlMs = 8 * 3_600_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether actions are possible at all: without ADMIN_TOKEN the console is read-only. */
  get enabled(): boolean {
    return this.adminToken !== undefined;
  }

  /** A new session for the right token; undefined otherwise (compared in constant time). */
  open(token: string): { id: string; csrf: string } | undefined {
    if (this.adminToken === undefined) return undefined;
    if (!timingSafeEqual(digest(token), digest(this.adminToken))) return undefined;
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    this.sessions.set(id, { csrf, expiresAt: this.now() + this.ttlMs });
    return { id, csrf };
  }

  close(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  /** The session's CSRF token, for the page that already holds the cookie. */
  csrfOf(id: string | undefined): string | undefined {
    const session = id ? this.sessions.get(id) : undefined;
    if (!session) return undefined;
    if (session.expiresAt < this.now()) {
      this.sessions.delete(id!);
      return undefined;
    }
    return session.csrf;
  }

  /** An action is allowed only with a live session and its CSRF token. */
  authorizes(id: string | undefined, csrf: string | undefined): boolean {
    const expected = this.csrfOf(id);
    return expected !== undefined && csrf !== undefined && timingSafeEqual(digest(csrf), digest(expected));
  }
}

/** Reads one cookie from a `Cookie` header. */
export function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return decodeURIComponent(part.slice(at + 1).trim());
  }
  return undefined;
}
