import path from 'node:path';
import type { Store } from '@alter0/store';
import type { Logger } from '@alter0/obs';
import { privateDir } from '@alter0/maintenance';
import { reapOrphanGroups } from '../orphans.js';

/**
 * Invariant 1 at boot: every `running` job is an orphan of the previous process, recovered before any worker
 * starts. Returns how many were rescued.
 */
export function recoverJobs(store: Store, logger: Logger, now: () => number): number {
  const recovered = store.jobs.recoverOrphans(now());
  const rescued = recovered.requeued.length + recovered.failed.length + recovered.completed.length;
  if (rescued > 0) {
    logger.warn('recovered jobs left running by the previous process', { ...recovered });
    store.events.add({
      component: 'queue',
      level: 'warn',
      kind: 'recovered',
      message: `recovered ${rescued} orphaned job(s) at start`,
      details: recovered,
      now: now(),
    });
  }
  return rescued;
}

/** Where agents run and where their process groups are recorded, all private to the owner. */
export interface AgentDirs {
  workspaceRoot: string;
  /** Where router and closer calls run: outside every task's workspace. */
  systemCwd: string;
  groupsDir: string;
}

/**
 * Creates the agents' directories and (invariant 8) kills the agent process groups a crashed previous process
 * left behind, obeying only records in a folder no one else can write.
 */
export function reapAgents(dataDir: string, store: Store, logger: Logger, now: () => number): AgentDirs {
  const workspaceRoot = path.join(dataDir, 'workspaces');
  const systemCwd = path.join(workspaceRoot, '.system');
  privateDir(workspaceRoot);
  privateDir(systemCwd);
  const groupsDir = path.join(dataDir, 'run', 'groups');
  privateDir(path.dirname(groupsDir));
  const reaped = reapOrphanGroups(groupsDir, { onUntrusted: (problem) => logger.warn(`agent reaper: ${problem}`) });
  if (reaped > 0) {
    logger.warn('killed agent processes left by the previous process', { groups: reaped });
    store.events.add({
      component: 'executor',
      level: 'warn',
      kind: 'orphans_killed',
      message: `killed ${reaped} agent process group(s) left by the previous process`,
      now: now(),
    });
  }
  return { workspaceRoot, systemCwd, groupsDir };
}
