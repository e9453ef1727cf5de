// Loaded with `node --import @order-saga/telemetry/register dist/main.js`, before the application.
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';

// Our code is ESM: instrumentations patch `require`, which ESM imports bypass. This loader hook
// lets them patch imported modules too. With the message channel it wraps only the modules an
// instrumentation asked for, instead of every module the application loads.
const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

// Imported after the hook is in place, so nothing the SDK loads escapes it.
const { shutdownTelemetry, startTelemetry } = await import('./sdk.js');
startTelemetry();
// The application's own imports must not run before the loader knows which modules to wrap.
await waitForAllMessagesAcknowledged();

function flushThenExit(signal: NodeJS.Signals): void {
  void shutdownTelemetry()
    .catch((error: unknown) => console.error('telemetry: flush failed on', signal, error))
    .finally(() => {
      // Listening to a signal disables Node's default exit. If the application listens too, it
      // owns the shutdown; otherwise re-raise the signal so the process ends as it would have.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, flushThenExit);
// A batch span processor holds spans for seconds; a process that simply runs out of work
// (a CLI, a script) would lose its last spans without this.
process.once('beforeExit', () => void shutdownTelemetry());
