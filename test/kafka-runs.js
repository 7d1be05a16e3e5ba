// Shared by the Kafka globalSetup and globalTeardown: where scripts/kafka.sh keeps its broker.
const { join } = require('node:path');

module.exports = {
  SCRIPT: join(__dirname, '..', 'scripts', 'kafka.sh'),
  kafkaDir: () => process.env.NRM_KAFKA_DIR || '/tmp/nrm-kafka',
};
