// Jest globalSetup: the relay's tests need a real Kafka broker. Starts the single-node broker of
// scripts/kafka.sh (idempotent: one already running is used as is) and hands its address to the
// test workers in KAFKA_BROKERS. If it cannot start, the run goes on and every test that needs
// Kafka fails with the reason (apps/relay/test/kafka.ts): the broker is required, never skipped.
// With KAFKA_BROKERS already set, that broker is used and nothing is started or stopped.
//
// Several test runs may share the broker (two terminals, two engineers): each registers itself in
// <NRM_KAFKA_DIR>/jest-runs/<pid>, and the teardown of the last run stops the broker, if a test
// run started it (marker file jest-started); a broker started by hand is left running.
const { execFileSync } = require('node:child_process');
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { kafkaDir, SCRIPT } = require('./kafka-runs');

function isRunning() {
  try {
    execFileSync('bash', [SCRIPT, 'status'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

module.exports = async function kafkaGlobalSetup() {
  if (process.env.KAFKA_BROKERS) return;
  const port = process.env.KAFKA_PORT || '19092';
  const wasRunning = isRunning();
  try {
    execFileSync('bash', [SCRIPT, 'start'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 });
  } catch (error) {
    const stderr = error && error.stderr ? String(error.stderr).trim() : '';
    const reason = stderr || (error instanceof Error ? error.message : String(error));
    process.env.NRM_KAFKA_UNAVAILABLE = `scripts/kafka.sh start failed: ${reason.split('\n').slice(-5).join(' | ')}`;
    process.stderr.write(`\nKafka broker not started; the tests that need it will fail: ${reason}\n`);
    return;
  }
  mkdirSync(join(kafkaDir(), 'jest-runs'), { recursive: true });
  writeFileSync(join(kafkaDir(), 'jest-runs', String(process.pid)), '');
  if (!wasRunning) writeFileSync(join(kafkaDir(), 'jest-started'), String(process.pid));
  process.env.KAFKA_BROKERS = `127.0.0.1:${port}`;
  process.env.NRM_KAFKA_JEST_RUN = '1';
};
