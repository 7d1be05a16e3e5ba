export * from './fields';
export * from './contracts';
export * from './source-events';
export * from './mappers';
