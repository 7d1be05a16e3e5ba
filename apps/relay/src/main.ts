/**
 * `npm run relay`: publishes the event store to Kafka as public integration events
 * (libs/contracts), consent-filtered per receiving agency, at least once.
 */
import { loadRelayConfig, RelayConfigError } from './config';
import { runRelay } from './relay-process';

async function main(): Promise<void> {
  const running = await runRelay(loadRelayConfig());
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`relay did not stop cleanly on ${signal}: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    error instanceof RelayConfigError
      ? `${error.message}\n`
      : `nrm-ledger relay failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
