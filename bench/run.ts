/** `npm run bench`: every benchmark the code supports so far, one after another (the ledger is built first). */
import { runAppendBenchmark } from './append';
import { runPostgresAppendBenchmark } from './append-postgres';
import { runCommandBenchmark } from './command';
import { runQueryBenchmark } from './query';
import { runRebuildBenchmark } from './rebuild';
import { runRelayBenchmark } from './relay';
import { runScaleBenchmark } from './scale';
import { runWithdrawalBenchmark } from './withdrawal';
import { writeReport } from './report';

async function main(): Promise<void> {
  const started = Date.now();
  await runAppendBenchmark();
  await runPostgresAppendBenchmark();
  await runCommandBenchmark();
  await runQueryBenchmark();
  await runRebuildBenchmark();
  await runWithdrawalBenchmark();
  await runRelayBenchmark();
  await runScaleBenchmark();
  await writeReport();
  console.log(
    `\nall benchmarks done in ${((Date.now() - started) / 1000).toFixed(1)} s; results in bench/results/`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
