// Jest globalTeardown: leaves the shared Kafka broker; the last test run out stops it, if a test
// run started it (see kafka-global-setup.js).
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const { kafkaDir, SCRIPT } = require('./kafka-runs');

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

module.exports = async function kafkaGlobalTeardown() {
  if (process.env.NRM_KAFKA_JEST_RUN !== '1') return;
  const runs = join(kafkaDir(), 'jest-runs');
  rmSync(join(runs, String(process.pid)), { force: true });
  // A run that was killed never got to its teardown: it does not hold the broker any more.
  const others = (existsSync(runs) ? readdirSync(runs) : []).filter((pid) => {
    if (alive(Number(pid))) return true;
    rmSync(join(runs, pid), { force: true });
    return false;
  });
  const marker = join(kafkaDir(), 'jest-started');
  if (others.length > 0 || !existsSync(marker)) return;
  rmSync(marker, { force: true });
  execFileSync('bash', [SCRIPT, 'stop'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
};
