/**
 * `npm run projector`: the projector as its own process, for production
 * (API with PROJECTOR=external, read models usually in PostgreSQL).
 */
import { ConfigError, loadConfig } from '../../ledger-api/src/config/config';
import { serviceMain } from '../../ledger-api/src/process/service-main';
import { runProjector } from './projector-process';

serviceMain(
  'projector',
  () => runProjector(loadConfig(process.env, { writesRecords: false })),
  (error) => error instanceof ConfigError,
);
