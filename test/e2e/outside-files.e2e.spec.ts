/**
 * Another account on the ledger's host (not the operator): `npm start` on its embedded default
 * makes DATA_DIR itself. Can anyone but the ledger's own user read the files in it? keys.sqlite
 * holds every subject's data key and events.sqlite the sealed identities: with both, every identity
 * opens. Counted: files (and the directory) readable by group or others.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../apps/ledger-api/src/bootstrap';
import { loadConfig } from '@nrm/runtime';
import { GENEROUS_RATE_LIMITS, Principal } from './harness';
import { RegistryCommands } from '@nrm/access';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';

describe('the files of a ledger that made its own DATA_DIR (e2e)', () => {
  /**
   * Found here (medium) and fixed: under the usual umask 022 the DATA_DIR the ledger made was 0755
   * and `keys.sqlite`, `events.sqlite`, their WAL files, `read-models.sqlite` and `audit.sqlite`
   * 0644, so any local account read every subject's data key and sealed identity. Now every store
   * makes the directory it creates 0700: nothing inside is reachable by another account, whatever
   * the files' own modes. (A DATA_DIR the operator made beforehand keeps the mode it was given.)
   */
  it('no file of DATA_DIR is readable by another account', async () => {
    // The usual umask of a login shell, whatever the test runner's is.
    const umask = process.umask(0o022);
    const parent = mkdtempSync(join(tmpdir(), 'nrm-oa-files-'));
    const dataDir = join(parent, 'data');
    const app = await createApp(
      loadConfig({
        DATA_DIR: dataDir,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
        ...GENEROUS_RATE_LIMITS,
      }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      // A subject with identity data, so that the key store holds a key.
      const store = app.get<EventStore>(EVENT_STORE);
      const registry = new RegistryCommands(store);
      const context = () => ({ now: new Date().toISOString(), requestId: 'test', fingerprint: 'test' });
      await registry.registerAgency(
        { name: 'Files clinic', kind: 'health', country: 'NL', agencyId: 'files-clinic' },
        context(),
      );
      const { principalId } = await registry.registerPrincipal(
        { agencyId: 'files-clinic', label: 'desk', roles: ['caseworker'] },
        context(),
      );
      const { apiKey } = await registry.issueApiKey(principalId, context());
      const clinic = new Principal(await app.getUrl(), 'files-clinic', principalId, apiKey!);
      const report = await clinic.post('/cases', {
        indicators: ['debt-bondage'],
        exploitationForms: ['labour'],
        minor: false,
        region: 'NL-ZH',
        identity: { fullName: 'Invented Person For Files' },
      });
      expect(report.status).toBe(201);
      // A file is exposed to a class (group, others) that may both enter DATA_DIR and read the file.
      const dirMode = statSync(dataDir).mode & 0o777;
      const enters = (dirMode & 0o010 ? 0o040 : 0) | (dirMode & 0o001 ? 0o004 : 0);
      const exposed = [dataDir, ...readdirSync(dataDir).map((f) => join(dataDir, f))]
        .map((path) => ({ path, mode: statSync(path).mode & 0o777 }))
        .filter(({ mode, path }) => (path === dataDir ? (mode & 0o077) !== 0 : (mode & enters) !== 0))
        .map(
          ({ path, mode }) =>
            `${path === dataDir ? 'DATA_DIR' : path.slice(dataDir.length + 1)} ${mode.toString(8)}`,
        );
      console.log(
        `outside-files: readable by others ${exposed.length}${exposed.length ? ` (${exposed.join(', ')})` : ''}`,
      );
      expect(exposed).toEqual([]);
    } finally {
      await app.close();
      process.umask(umask);
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
