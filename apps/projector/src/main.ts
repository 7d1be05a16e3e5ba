/**
 * `npm run projector`: the projector as its own process, for production
 * (API with PROJECTOR=external, read models usually in PostgreSQL).
 */
import { ConfigError, loadConfig, serviceMain } from '@nrm/runtime';
import { runProjector } from './projector-process';

serviceMain(
  'projector',
  () => runProjector(loadConfig(process.env, { writesRecords: false })),
  (error) => error instanceof ConfigError,
);
