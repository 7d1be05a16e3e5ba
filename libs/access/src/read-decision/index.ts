export * from './read-decision';
export * from './who-may';
