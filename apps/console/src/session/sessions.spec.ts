import { describe, expect, it } from 'vitest';
import { cookie, Sessions } from './sessions.js';

const token = 'correct-horse-battery-staple';

describe('admin sessions', () => {
  it('a_wrong_token_opens_no_session', () => {
    expect(new Sessions(token).open('wrong')).toBeUndefined();
  });

  it('without_an_admin_token_configured_nobody_can_act', () => {
    const sessions = new Sessions(undefined);
    expect(sessions.enabled).toBe(false);
    expect(sessions.open('')).toBeUndefined();
  });

  it('an_action_needs_the_session_and_its_csrf_token', () => {
    const sessions = new Sessions(token);
    const session = sessions.open(token)!;
    expect(sessions.authorizes(session.id, session.csrf)).toBe(true);
    expect(sessions.authorizes(session.id, undefined)).toBe(false);
    expect(sessions.authorizes(session.id, 'forged')).toBe(false);
    expect(sessions.authorizes(undefined, session.csrf)).toBe(false);
  });

  it('an_expired_session_authorizes_nothing', () => {
    let now = 0;
    const sessions = new Sessions(token, 1_000, () => now);
    const session = sessions.open(token)!;
    now = 1_001;
    expect(sessions.authorizes(session.id, session.csrf)).toBe(false);
  });

  it('reads_a_cookie_among_others', () => {
    expect(cookie('a=1; console_session=xyz; b=2', 'console_session')).toBe('xyz');
    expect(cookie(undefined, 'console_session')).toBeUndefined();
  });
});
