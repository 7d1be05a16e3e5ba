/**
 * `npm run relay`: publishes the event store to Kafka as public integration events
 * (libs/contracts), consent-filtered per receiving agency, at least once.
 */
import { serviceMain } from '@nrm/runtime';
import { loadRelayConfig, RelayConfigError } from './config';
import { runRelay } from './relay-process';

serviceMain(
  'relay',
  () => runRelay(loadRelayConfig()),
  (error) => error instanceof RelayConfigError,
);
