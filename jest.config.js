/** @type {import('jest').Config} */
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  // *.unit.spec.ts and *.int.spec.ts beside the code; test/e2e/*.e2e.spec.ts against a booted app.
  testMatch: [
    '<rootDir>/{apps,libs}/**/*.(unit|int).spec.ts',
    '<rootDir>/deploy/**/*.unit.spec.ts',
    '<rootDir>/scripts/**/*.int.spec.ts',
    '<rootDir>/test/e2e/**/*.e2e.spec.ts',
    // The web console's component tests (jsdom: see the docblock of each).
    '<rootDir>/apps/console/**/*.unit.spec.tsx',
  ],
  transform: {
    // One transformer for .ts and the console's .tsx: ts-jest keeps one compiler per run, whichever file comes first.
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
  },
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
  moduleFileExtensions: ['ts', 'tsx', 'js', 'json'],
  testTimeout: 60_000,
  // A real Kafka broker (scripts/kafka.sh, KRaft, from the official Maven artifacts) for the relay's tests.
  globalSetup: '<rootDir>/test/kafka-global-setup.js',
  globalTeardown: '<rootDir>/test/kafka-global-teardown.js',
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
