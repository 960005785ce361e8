// @alter0/soak's public entry: the harness's pure pieces (fault plans, statistics, options, report template,
// expectations, agent discovery), for tests. The harness program itself is `@alter0/soak/main`.
export { currentMessage, decodePlan, encodePlan } from './plan.js';
export type { MessagePlan } from './plan.js';
export { afterWarmup, coveredMs, floorPerWindow, pooledSlopePerHour, slopePerHour, summarize } from './stats.js';
export type { Point } from './stats.js';
export { UsageError, parseDuration, parseFaults } from './options.js';
export { fillTemplate, renderReport } from './report.js';
export { emptyResult } from './result.js';
export { expectationOf } from './workload.js';
export { findAgents } from './procs.js';
export { Api, NoAnswerError } from './http.js';
export type { Answer } from './http.js';
export { prepareRun } from './run-state.js';
export type { SoakRun } from './run-state.js';
export { DaemonProcess } from './daemon.js';
export { parseOptions } from './options.js';
export { smallDiskFeature, MIN_SMALL_DISK_MB } from './day/small-disk.js';
export { diskFullMoment, judgeDiskFull } from './day/moments/disk.js';
export type { DiskFullObservation } from './day/moments/disk.js';
export { heldReadMoment, heldWriteMoment, judgeHold } from './day/moments/db-hold.js';
export type { HoldObservation } from './day/moments/db-hold.js';
export { emptyTally, whyNoAnswer } from './day/moments/probe.js';
// The day profile's approvals, schedules and CLI channel, for apps/cli/test/soak-{approvals,schedules,cli-channel}.test.ts.
export { approvalsFeature } from './day/approvals.js';
export type { ApprovalsOptions } from './day/approvals.js';
export { denyReason, judgeAgentViews, judgeApprovals, overdue } from './day/approvals-judge.js';
export type { ApprovalJob, Finding, SeenApproval } from './day/approvals-judge.js';
export { schedulesFeature } from './day/schedules.js';
export type { SchedulesOptions } from './day/schedules.js';
export { duplicateSlots, judgeSchedules, longestQuietMs, slotsBetween, stalls } from './day/schedules-judge.js';
export type { FiringLook, ScheduleObservation } from './day/schedules-judge.js';
export { readSchedules } from './day/schedules-db.js';
export { cliFeature, jobIdOf, runCliSend } from './day/cli-traffic.js';
export type { CliTrafficOptions } from './day/cli-traffic.js';
// The day profile's channels (Telegram through the fake Bot API, webhook receivers), for apps/cli/test/soak-channels.test.ts.
export { telegramFeature } from './day/telegram.js';
export type { TelegramFeature, TelegramFeatureOptions } from './day/telegram.js';
export { webhooksFeature } from './day/webhooks.js';
export type { WebhooksFeature, WebhooksFeatureOptions } from './day/webhooks.js';
export { checkAcknowledged, checkStrangers, checkTakenOnce, unanswered } from './day/telegram-checks.js';
export type { SentUpdate } from './day/telegram-checks.js';
export { undelivered, unmarked } from './day/webhook-checks.js';
export { readChannelsDb } from './day/channels-db.js';
export type { ChannelsDb } from './day/channels-db.js';
export { judgeTelegramOutage } from './day/telegram-outage.js';
export type { TelegramOutageObserved } from './day/telegram-outage.js';
export { judgeWebhookOutage } from './day/webhook-outage.js';
export type { WebhookOutageObserved } from './day/webhook-outage.js';
export type { Judged } from './day/schedules-judge.js';
// The day profile's time pieces (watchdog, SIGSTOP, clock jumps), for apps/cli/test/soak-hostile-time.test.ts.
export { watchdogFeature } from './day/watchdog.js';
export type { WatchdogFeature, WatchdogOptions } from './day/watchdog.js';
export { judgeStop, stopMoment } from './day/moments/stop.js';
export type { StopObservation } from './day/moments/stop.js';
export { clockFeature, findFaketime, FAKETIME_INSTALL } from './day/clock.js';
export type { ClockFeature } from './day/clock.js';
export { clockJumpMoment, judgeJump } from './day/moments/clock.js';
export type { JumpObservation } from './day/moments/clock.js';
export type { SoakFeature } from './day/feature.js';
export { requestRestart, supervise } from './restart.js';
// Mutation testing of the soak (issue 18): the broken builds and how they are made, for apps/cli/test/soak-mutants.test.ts.
export { HIT, MUTANTS } from './mutants.js';
export type { Mutant } from './mutants.js';
export {
  applyMutant,
  judge,
  mutantBundle,
  newerBuilds,
  prepareMutant,
  readMarks,
  runSoakProcess,
} from './mutants-build.js';
export type { MutantBuild, MutantRun } from './mutants-build.js';
