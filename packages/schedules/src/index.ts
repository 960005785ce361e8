export { type ScheduleRequest, type ScheduleSpec, MIN_PERIOD_MS, parseSchedule } from './spec.js';
export { type Timing, type FiringPlan, type MissedPolicy, nextSlot, planFiring, graceFor, rebase } from './slots.js';
export { describeSchedule, formatPeriod } from './describe.js';
