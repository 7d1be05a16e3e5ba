/**
 * `npm run projector`: the projector as its own process, for production
 * (API with PROJECTOR=external, read models usually in PostgreSQL).
 */
import { ConfigError, loadConfig } from '../../ledger-api/src/config/config';
import { runProjector } from './projector-process';

async function main(): Promise<void> {
  const running = await runProjector(loadConfig());
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`projector did not stop cleanly on ${signal}: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    error instanceof ConfigError
      ? `${error.message}\n`
      : `nrm-ledger projector failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
