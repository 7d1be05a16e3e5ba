export * from './commands';
export * from './events';
export * from './state';
export { decide, evolve, supportDecider, MIN_REFLECTION_DAYS, MAX_BACKDATING_DAYS } from './decider';
export { isCalendarDate, type CalendarDate } from './calendar-date';
export { supportStream } from './streams';
export * from './application/support-commands';
