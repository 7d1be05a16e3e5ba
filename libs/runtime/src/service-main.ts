import { startTracing, TracingConfigError } from './tracing';

/**
 * The life of a background service process (the projector, the relay): start
 * it, stop it cleanly on SIGTERM or SIGINT, and on a failed start say why in
 * one line (a configuration error as the operator's to fix) and exit 1.
 */
export function serviceMain(
  name: string,
  start: () => Promise<{ stop(): Promise<void> }>,
  isConfigError: (error: unknown) => boolean,
): void {
  let tracing: { shutdown(): Promise<void> } | undefined;
  Promise.resolve()
    .then(() => {
      // Off unless OTEL_TRACES_EXPORTER names an exporter (see tracing.ts).
      tracing = startTracing(name);
      return start();
    })
    .then((running) => {
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        running
          .stop()
          .then(() => tracing?.shutdown())
          .then(
            () => process.exit(0),
            (error: unknown) => {
              process.stderr.write(`${name} did not stop cleanly on ${signal}: ${String(error)}\n`);
              process.exit(1);
            },
          );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    })
    .catch((error: unknown) => {
      process.stderr.write(
        (isConfigError(error) || error instanceof TracingConfigError) && error instanceof Error
          ? `${error.message}\n`
          : `nrm-ledger ${name} failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(1);
    });
}
