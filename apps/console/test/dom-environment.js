// jsdom for the console's component tests, with Node's fetch classes: the console's client
// (openapi-fetch) builds a Request and reads a Response, as a browser would.
const { TestEnvironment } = require('jest-environment-jsdom');
const { webcrypto } = require('node:crypto');

class ConsoleDomEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of [
      'fetch',
      'Request',
      'Response',
      'Headers',
      'TextEncoder',
      'TextDecoder',
      'ReadableStream',
    ])
      this.global[name] = globalThis[name];
    Object.defineProperty(this.global, 'crypto', { value: webcrypto, configurable: true });
  }
}

module.exports = ConsoleDomEnvironment;
