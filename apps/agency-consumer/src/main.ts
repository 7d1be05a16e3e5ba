/**
 * A reference consumer for an agency's system: reads the agency's topic and stores each
 * integration event once in a local inbox, whatever the relay redelivers (dedupe by the event-id
 * header). Run it with `KAFKA_BROKERS=127.0.0.1:19092 AGENCY_ID=ngo-lighthouse tsx apps/agency-consumer/src/main.ts`;
 * RELAY_TOPIC_PREFIX must match the relay's, DATA_DIR holds the inbox file.
 */
import { join, resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { AgencyInbox } from './inbox';

function required(name: string, pattern: RegExp, hint: string): string {
  const value = process.env[name]?.trim();
  if (!value || !pattern.test(value)) throw new Error(`${name} ${hint}`);
  return value;
}

async function main(): Promise<void> {
  const brokers = required(
    'KAFKA_BROKERS',
    /^[A-Za-z0-9.-]+:\d+(,[A-Za-z0-9.-]+:\d+)*$/,
    'must list host:port',
  );
  const agencyId = required('AGENCY_ID', /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/, 'must be the agency id');
  const prefix = process.env.RELAY_TOPIC_PREFIX?.trim() ?? '';
  const inbox = new AgencyInbox(join(resolve(process.env.DATA_DIR ?? './data'), `inbox-${agencyId}.sqlite`));
  const kafka = new Kafka({
    clientId: `agency-${agencyId}`,
    brokers: brokers.split(','),
    logLevel: logLevel.WARN,
  });
  const consumer = kafka.consumer({ groupId: `${prefix}agency.${agencyId}` });
  await consumer.connect();
  await consumer.subscribe({ topic: `${prefix}nrm.agency.${agencyId}`, fromBeginning: true });
  const log = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
  // The offset is committed after eachMessage returns: a crash before that redelivers, and the inbox ignores it.
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(message.headers ?? {}))
        headers[name] = Array.isArray(value) ? value[0]?.toString() : value?.toString();
      const receipt = inbox.receive({ headers, value: message.value?.toString() ?? '' });
      // Ids, contract names and counts only: never a payload.
      log({ offset: message.offset, ...receipt });
    },
  });
  const stop = () => {
    consumer
      .disconnect()
      .then(() => inbox.close())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`agency consumer failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
