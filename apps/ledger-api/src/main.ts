import type { AddressInfo } from 'node:net';
import { Logger } from 'nestjs-pino';
import { ConfigError, loadConfig } from '@nrm/runtime';
import { createApp } from './bootstrap';
import { startupFacts, startupLine } from './startup';
import { startTracing, TracingConfigError } from '@nrm/runtime';

async function main(): Promise<void> {
  const config = loadConfig();
  // Before the app is built, so that its request hooks see it (off unless OTEL_TRACES_EXPORTER is set).
  const tracing = startTracing('api');
  if (tracing.enabled) {
    // Sends what is buffered while Nest closes the app (bounded by OTEL_EXPORTER_OTLP_TIMEOUT).
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void tracing.shutdown());
    process.once('beforeExit', () => void tracing.shutdown());
  }
  const app = await createApp(config);
  await app.listen({ port: config.PORT, host: config.HOST });
  // PORT=0 picks a free port: say which one was picked.
  const address = app.getHttpAdapter().getInstance().server.address() as AddressInfo;
  const facts = startupFacts(config, address.port);
  app.get(Logger).log({ msg: 'listening', ...facts }, 'Startup');
  process.stderr.write(startupLine(facts));
}

main().catch((error: unknown) => {
  // Configuration errors are the operator's to fix: say what, not where in the code.
  if (error instanceof ConfigError || error instanceof TracingConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `nrm-ledger failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
  process.exit(1);
});
