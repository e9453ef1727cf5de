import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What identifies the message being handled: `correlationId` is shared by every message and
 * request of one business flow (an order), `causationId` is the id of the message that caused
 * this one, `messageId` is this message's own id.
 */
export interface MessageContext {
  correlationId: string;
  causationId?: string;
  messageId?: string;
}

// Kept apart from OpenTelemetry's context: a correlation id must reach the logs even when
// tracing is off or the trace was sampled out.
const storage = new AsyncLocalStorage<MessageContext>();

/** Runs `fn` with `ctx` as the current message context, for `fn` and everything it awaits. */
export function runWithMessageContext<T>(ctx: MessageContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** The message context of the code running now, or `undefined` outside any message or request. */
export function currentMessageContext(): MessageContext | undefined {
  return storage.getStore();
}
