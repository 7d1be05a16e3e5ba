// Exits 0 once the Kafka broker at argv[2] (host:port) serves cluster metadata, 1 otherwise.
// Used by scripts/kafka.sh to wait for a starting broker; kafkajs is what the relay uses too.
// With KAFKA_READY_SASL_USERNAME and KAFKA_READY_SASL_PASSWORD: SCRAM-SHA-512 over plaintext
// (the KAFKA_SECURITY=scram broker of scripts/kafka.sh).
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const broker = process.argv[2];
  if (!broker) throw new Error('usage: node scripts/kafka-ready.js host:port');
  const kafka = new Kafka({
    clientId: 'nrm-kafka-ready',
    brokers: [broker],
    connectionTimeout: 1000,
    requestTimeout: 2000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
    ...(process.env.KAFKA_READY_SASL_USERNAME
      ? {
          sasl: {
            mechanism: 'scram-sha-512',
            username: process.env.KAFKA_READY_SASL_USERNAME,
            password: process.env.KAFKA_READY_SASL_PASSWORD || '',
          },
        }
      : {}),
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0 || cluster.controller === null)
      throw new Error('no broker registered yet');
  } finally {
    await admin.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
