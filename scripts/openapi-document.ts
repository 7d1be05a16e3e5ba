/**
 * Writes the OpenAPI document a booted ledger serves (on a temporary SQLite file) to the given path,
 * or to stdout. Used to refresh the release snapshot: `npm run openapi:snapshot`.
 */
import { writeFileSync } from 'node:fs';
import { Ledger } from '../test/e2e/harness';

async function main(): Promise<void> {
  const ledger = await Ledger.boot();
  try {
    const response = await fetch(`${ledger.base}/openapi.json`);
    const text = `${JSON.stringify(JSON.parse(await response.text()), null, 2)}\n`;
    if (process.argv[2]) writeFileSync(process.argv[2], text);
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
