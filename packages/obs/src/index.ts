export {
  type Logger,
  type LoggerOptions,
  type LogContext,
  type LogFields,
  type LogLevel,
  LOG_LEVELS,
  createLogger,
  nullLogger,
  LineBuffer,
} from './logger.js';
export { LOG_FILE_PATTERN, LOG_SYMLINK } from './rotating-file.js';
export { type SerializedError, serializeError } from './serialize.js';
export {
  type Metrics,
  type MetricsOptions,
  type MaintenanceState,
  type WorkerHeap,
  type TimedStage,
  type JobOutcome,
  type RouteOutcome,
  type CloseAction,
  DURATION_BUCKETS,
  createMetrics,
} from './metrics.js';
export { startTimer } from './timer.js';
