export * from './registry';
export * from './registry-view';
export * from './access-audit';
export * from './application/registry-commands';
