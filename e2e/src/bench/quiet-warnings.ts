// kafkajs 2.2.4's request queue arms its throttle check with `throttledUntil - Date.now()`, which
// is negative when the broker never throttled; Node 24 warns and uses 1 ms, which is what kafkajs
// meant. Once per process, in every process of the benchmark, it would bury the figures. Imported
// first by each entry point; every other warning still prints.
const [printWarning] = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'TimeoutNegativeWarning') return;
  printWarning?.(warning);
});
