/**
 * The relay's tests against a real broker: where it is, unique topic names per run, a consumer
 * that reads everything on a set of topics, and the relay as a child process to kill.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';

export const ROOT = resolve(__dirname, '../../..');
export const KAFKA_SCRIPT = join(ROOT, 'scripts', 'kafka.sh');

/**
 * The broker that jest's globalSetup started (test/kafka-global-setup.js). Throws, so that the test
 * fails, when it could not be started: Kafka is a required component of these tests, never skipped.
 */
export function kafkaBrokers(): string[] {
  const unavailable = process.env.NRM_KAFKA_UNAVAILABLE;
  if (unavailable) throw new Error(`Kafka is required for this test and is not available: ${unavailable}`);
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers)
    throw new Error(
      'KAFKA_BROKERS is not set: run the tests through jest with test/kafka-global-setup.js as globalSetup, ' +
        'or start a broker with scripts/kafka.sh start and set KAFKA_BROKERS=127.0.0.1:19092',
    );
  return brokers.split(',').map((b) => b.trim());
}

/** A topic prefix no other run uses: runs never see each other's messages. */
export function uniquePrefix(name: string): string {
  return `test.${name}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}.`;
}

/** Deletes the topics a test made (names starting with `prefix`), so that the shared broker does not fill up. */
export async function deleteTopics(brokers: readonly string[], prefix: string): Promise<void> {
  const admin = new Kafka({
    clientId: 'nrm-relay-test',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

/** Runs scripts/kafka.sh with extra environment (another port and directory for a private broker). */
export function kafkaScript(command: 'start' | 'stop' | 'status', env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((done, failed) => {
    execFile(
      'bash',
      [KAFKA_SCRIPT, command],
      { env: { ...process.env, ...env }, timeout: 300_000 },
      (error, stdout, stderr) =>
        error
          ? failed(new Error(`kafka.sh ${command} failed: ${stderr || error.message}`))
          : done(stdout.trim()),
    );
  });
}

export interface Received {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string;
  readonly eventId: string;
  readonly type: string;
  readonly value: string;
  /** The W3C trace context the relay put in the headers (empty when tracing was off). */
  readonly traceparent: string;
  /** Every header, as text. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Reads every message now on the topics whose names start with `prefix`, from the beginning. */
export async function consumeAll(
  brokers: readonly string[],
  prefix: string,
  timeoutMs = 60_000,
): Promise<Received[]> {
  const kafka = new Kafka({ clientId: 'nrm-relay-test', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, bigint>();
  let topics: string[];
  try {
    topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic))
        ends.set(`${topic}/${p.partition}`, BigInt(p.high));
    }
  } finally {
    await admin.disconnect();
  }
  const received: Received[] = [];
  const remaining = new Set([...ends].filter(([, high]) => high > 0n).map(([tp]) => tp));
  if (remaining.size === 0) return received;

  const consumer = kafka.consumer({ groupId: `${prefix}reader.${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await new Promise<void>((done, failed) => {
      const timer = setTimeout(
        () =>
          failed(
            new Error(`consumer did not reach the end of ${[...remaining].join(', ')} in ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ topic, partition, message }) => {
            const header = (name: string) => message.headers?.[name]?.toString() ?? '';
            received.push({
              topic,
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? '',
              eventId: header('event-id'),
              type: header('type'),
              value: message.value?.toString() ?? '',
              traceparent: header('traceparent'),
              headers: Object.fromEntries(
                Object.keys(message.headers ?? {}).map((name) => [name, header(name)]),
              ),
            });
            const tp = `${topic}/${partition}`;
            if (BigInt(message.offset) + 1n >= (ends.get(tp) ?? 0n)) remaining.delete(tp);
            if (remaining.size === 0) {
              clearTimeout(timer);
              done();
            }
          },
        })
        .catch(failed);
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}

/** The relay as its own process (apps/relay/src/main.ts), resolved once it logs that it started. */
const healthUrls = new WeakMap<ChildProcess, string>();

/** Where a relay started by spawnRelay answers GET /health (it holds its own file locked while it runs). */
export function relayHealthUrl(child: ChildProcess): string {
  const url = healthUrls.get(child);
  if (url === undefined) throw new Error('not a relay started by spawnRelay');
  return url;
}

/** `ready`: the log message awaited; by default the first delivery loop start (Kafka reached). */
export function spawnRelay(
  env: NodeJS.ProcessEnv,
  ready: RegExp = /"msg":"relay (started|resumed from its checkpoint)"/,
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      join(ROOT, 'apps/relay/src/main.ts'),
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        TS_NODE_PROJECT: process.env.TS_NODE_PROJECT ?? join(ROOT, 'tsconfig.json'),
        LOG_LEVEL: 'info',
        RELAY_HEALTH_PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((started, failed) => {
    let output = '';
    const timer = setTimeout(() => failed(new Error(`relay not started in time: ${output}`)), 30_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /"healthUrl":"([^"]+)"/.exec(output)?.[1];
      if (!ready.test(output) || url === undefined) return;
      healthUrls.set(child, url);
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      started(child);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      failed(new Error(`relay exited (${code ?? signal}) before it started: ${output}`));
    });
  });
}

export function killed(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once('exit', () => done());
    child.kill(signal);
  });
}
