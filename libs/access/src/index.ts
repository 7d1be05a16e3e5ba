export * from './registry';
export * from './registry-view';
