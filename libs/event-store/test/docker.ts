import { execFileSync } from 'node:child_process';

/**
 * Why no container can be started here, decided synchronously at load (so that a suite can be
 * declared skipped with the reason in its name); undefined when a Docker engine answers.
 */
export function noDockerReason(): string | undefined {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
      timeout: 15_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer | string }).stderr?.toString().trim();
    const text = stderr || (error instanceof Error ? error.message : String(error));
    return (text.split('\n').find((line) => line.trim().length > 0) ?? 'docker info failed').trim();
  }
}

/** ESDB_REQUIRED=1: a real-server suite that cannot run fails instead of being reported skipped. */
export const ESDB_REQUIRED = process.env.ESDB_REQUIRED === '1';

/**
 * Declares a suite that cannot run here: skipped with the reason in its name, or, with
 * ESDB_REQUIRED=1, one failing test that says why.
 */
export function cannotRun(name: string, reason: string, body: () => void): void {
  if (ESDB_REQUIRED)
    describe(name, () => {
      it(`cannot run, and ESDB_REQUIRED=1 says it must: ${reason}`, () => {
        throw new Error(`${name}: ${reason} (ESDB_REQUIRED=1)`);
      });
    });
  else describe.skip(`${name} — skipped: ${reason}`, body);
}
