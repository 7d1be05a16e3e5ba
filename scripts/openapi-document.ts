/**
 * Writes the OpenAPI document a booted ledger serves (on a temporary SQLite file) to the given path,
 * or to stdout. With `--snapshot`, to docs/openapi/openapi-<info.version>.json: the snapshot of a
 * release that test/e2e/openapi-compat compares later documents with (`npm run openapi:snapshot`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ledger } from '../test/e2e/harness';

async function main(): Promise<void> {
  const ledger = await Ledger.boot();
  try {
    const response = await fetch(`${ledger.base}/openapi.json`);
    const document = JSON.parse(await response.text()) as { info: { version: string } };
    const text = `${JSON.stringify(document, null, 2)}\n`;
    const target =
      process.argv[2] === '--snapshot'
        ? join(__dirname, '..', 'docs', 'openapi', `openapi-${document.info.version}.json`)
        : process.argv[2];
    if (target) writeFileSync(target, text);
    else process.stdout.write(text);
  } finally {
    await ledger.close();
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
