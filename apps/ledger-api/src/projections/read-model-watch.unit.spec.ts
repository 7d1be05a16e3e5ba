import type { ReadModelVerification } from '@nrm/projections';
import { ReadModelWatch } from './read-model-watch';

const clean: ReadModelVerification = {
  ok: true,
  positions: { 'access-log': 7 },
  skipped: [],
  tables: 2,
  rows: 7,
  eventsReplayed: 7,
  divergences: [],
  seconds: 0.01,
};
const diverged: ReadModelVerification = {
  ...clean,
  ok: false,
  divergences: [
    {
      table: 'access_log',
      projection: 'access-log',
      liveRows: 6,
      rebuiltRows: 7,
      missing: 1,
      unjustified: 0,
    },
  ],
};

describe('ReadModelWatch', () => {
  const logged: string[] = [];
  const logger = {
    log: (m: string) => void logged.push(`log ${m}`),
    warn: (m: string) => void logged.push(`warn ${m}`),
    error: (m: string) => void logged.push(`error ${m}`),
  };
  beforeEach(() => (logged.length = 0));

  it('keeps a divergence as its finding until a check passes, and logs counts only', async () => {
    const answers = [diverged, diverged, clean];
    const watch = new ReadModelWatch(() => Promise.resolve(answers.shift()!), 0, logger);
    await watch.start();
    expect(watch.finding?.divergences).toEqual(diverged.divergences);
    await watch.check();
    expect(watch.finding).toBeDefined();
    await watch.check();
    expect(watch.finding).toBeUndefined();
    expect(watch.checks).toEqual({ ok: 1, diverged: 2, error: 0 });
    expect(logged[0]).toMatch(
      /^error read models diverge from the events \(access_log: 1 missing, 0 unjustified/,
    );
    expect(logged.at(-1)).toMatch(/^log read models equal their rebuild again/);
  });

  it('counts a check that could not finish as an error and keeps the standing finding', async () => {
    const answers: Array<() => Promise<ReadModelVerification>> = [
      () => Promise.resolve(diverged),
      () => Promise.reject(new Error('the checkpoint moved back')),
    ];
    const watch = new ReadModelWatch(() => answers.shift()!(), 0, logger);
    await watch.start();
    await watch.check();
    expect(watch.finding).toBeDefined();
    expect(watch.lastCheck).toMatchObject({ result: 'error', error: 'the checkpoint moved back' });
    expect(watch.checks).toEqual({ ok: 0, diverged: 1, error: 1 });
  });

  it('runs one check at a time and checks again every interval until stopped', async () => {
    let calls = 0;
    const watch = new ReadModelWatch(
      () => {
        calls++;
        return new Promise((resolve) => setTimeout(() => resolve(clean), 5));
      },
      10,
      logger,
    );
    await Promise.all([watch.start(), watch.check()]);
    expect(calls).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    await watch.stop();
    const seen = calls;
    expect(seen).toBeGreaterThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(calls).toBe(seen);
  });

  it('refuses at once after a write by another connection, and serves again once a check vouches for the file', async () => {
    let counter = 7;
    const answers = [clean, clean, diverged];
    const watch = new ReadModelWatch(
      () => Promise.resolve(answers.shift()!),
      0,
      logger,
      () => counter,
    );
    await watch.start();
    expect(watch.writtenSinceVouched()).toBe(false);
    counter = 8; // say, a `ledger rebuild` that wrote what the events justify
    expect(watch.writtenSinceVouched()).toBe(true);
    await watch.check();
    expect(watch.writtenSinceVouched()).toBe(false);
    counter = 9; // a row edited in
    expect(watch.writtenSinceVouched()).toBe(true);
    await watch.check();
    expect(watch.finding).toBeDefined();
    await watch.stop();
  });

  it('with an intact seal, starts serving before the check ends, and a divergence it finds still refuses', async () => {
    let finish!: (v: ReadModelVerification) => void;
    const watch = new ReadModelWatch(
      () => new Promise<ReadModelVerification>((resolve) => (finish = resolve)),
      0,
      logger,
      () => 3,
      true,
    );
    await watch.start(); // resolves while the check is still running
    expect(watch.checks).toEqual({ ok: 0, diverged: 0, error: 0 });
    expect(watch.finding).toBeUndefined();
    expect(watch.vouched()).toBe(true);
    finish(diverged); // a row forged in the region the seal vouched for
    await watch.check();
    expect(watch.finding?.divergences).toEqual(diverged.divergences);
    expect(watch.vouched()).toBe(false); // no seal at close: the next start checks before serving
    await watch.stop();
  });

  it('without a seal (or without the foreign-write counter) waits for the check at start', async () => {
    let calls = 0;
    for (const counter of [() => 3, undefined]) {
      const watch = new ReadModelWatch(
        () => {
          calls++;
          return Promise.resolve(diverged);
        },
        0,
        logger,
        counter,
        counter === undefined, // a seal without the counter is not honoured
      );
      await watch.start();
      expect(watch.finding).toBeDefined();
      expect(watch.vouched()).toBe(false);
    }
    expect(calls).toBe(2);
  });

  it('vouches at close only for a file nobody but the projector wrote since the last check passed', async () => {
    let counter = 1;
    const watch = new ReadModelWatch(
      () => Promise.resolve(clean),
      0,
      logger,
      () => counter,
    );
    await watch.start();
    expect(watch.vouched()).toBe(true);
    counter = 2;
    expect(watch.vouched()).toBe(false);
    await watch.stop();
  });

  it('stops a check in flight at stop, recording no verdict', async () => {
    let seen: AbortSignal | undefined;
    const watch = new ReadModelWatch(
      (signal) =>
        new Promise<ReadModelVerification>((_, reject) => {
          seen = signal;
          signal.addEventListener('abort', () => reject(new Error('the check was stopped')));
        }),
      0,
      logger,
      () => 1,
      true,
    );
    await watch.start();
    await watch.stop();
    expect(seen?.aborted).toBe(true);
    expect(watch.checks).toEqual({ ok: 0, diverged: 0, error: 0 });
  });
});
