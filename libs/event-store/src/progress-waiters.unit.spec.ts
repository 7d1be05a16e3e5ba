import { ProgressWaiters } from './progress-waiters';

describe('ProgressWaiters', () => {
  it('settles true what was reached, false on abandon or timeout, each once', async () => {
    const waiters = new ProgressWaiters();
    const five = waiters.wait(5, 5000);
    const nine = waiters.wait(9, 5000);
    const late = waiters.wait(100, 10);
    waiters.advance(6);
    expect(await five).toBe(true);
    expect(await late).toBe(false);
    waiters.abandon();
    expect(await nine).toBe(false);
    waiters.advance(200); // nothing left to settle
  });
});
