export * from './registry';
export * from './registry-view';
export * from './access-audit';
export * from './read-decision';
export * from './break-glass';
export * from './audit-trail';
export * from './application/registry-commands';
