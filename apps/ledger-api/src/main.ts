import type { AddressInfo } from 'node:net';
import { Logger } from 'nestjs-pino';
import { ConfigError, loadConfig } from '@nrm/runtime';
import { createApp } from './bootstrap';
import { startupFacts, startupLine } from './startup';

async function main(): Promise<void> {
  const config = loadConfig();
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
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `nrm-ledger failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  }
  process.exit(1);
});
