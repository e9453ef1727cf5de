import { describe, expect, it } from 'vitest';
import { currentMessageContext, runWithMessageContext } from './correlation.js';

describe('message context', () => {
  it('is undefined outside any message', () => {
    expect(currentMessageContext()).toBeUndefined();
  });

  it('follows the handler through awaits', async () => {
    const seen = await runWithMessageContext({ correlationId: 'order-1', messageId: 'm-1' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return currentMessageContext();
    });
    expect(seen).toEqual({ correlationId: 'order-1', messageId: 'm-1' });
  });

  it('keeps concurrent messages apart', async () => {
    const handle = (correlationId: string, delay: number) =>
      runWithMessageContext({ correlationId }, async () => {
        await new Promise((resolve) => setTimeout(resolve, delay));
        return currentMessageContext()?.correlationId;
      });
    expect(await Promise.all([handle('a', 10), handle('b', 1)])).toEqual(['a', 'b']);
  });

  it('restores the outer context when a nested message ends', () => {
    runWithMessageContext({ correlationId: 'outer' }, () => {
      runWithMessageContext({ correlationId: 'inner', causationId: 'outer-msg' }, () => {
        expect(currentMessageContext()?.causationId).toBe('outer-msg');
      });
      expect(currentMessageContext()?.correlationId).toBe('outer');
    });
  });
});
