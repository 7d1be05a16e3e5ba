export * from './vocabulary';
export * from './decider';
export * from './domain-error';
export * from './sealed-identity';
export * from './values';
export * from './sharing';
