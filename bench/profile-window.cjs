// Preloaded into a profiled ledger (BENCH_CPU_PROF, bench/http.ts): the main thread's CPU profile
// covers only the measured window, from SIGWINCH (sent after the warm-up; Nest's shutdown hooks take SIGUSR2) to the stop signal, when
// it is written to BENCH_CPU_PROF as a .cpuprofile; then the ledger's own shutdown runs.
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const session = new inspector.Session();
session.connect();
let started = false;
process.on('SIGWINCH', () => {
  if (started) return;
  started = true;
  session.post('Profiler.enable', () => session.post('Profiler.start'));
});

let signals = 0;
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    signals += 1;
    // The ledger's shutdown hook stops the process by sending the signal again, which this listener takes.
    if (signals > 1) process.exit(0);
    setTimeout(() => process.exit(0), 10_000).unref();
    if (!started) return;
    session.post('Profiler.stop', (error, result) => {
      if (!error)
        writeFileSync(
          join(process.env.BENCH_CPU_PROF, `ledger-${process.pid}.cpuprofile`),
          JSON.stringify(result.profile),
        );
    });
  });
}
