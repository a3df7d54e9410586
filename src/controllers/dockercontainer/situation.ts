import type { ContainerHealth } from '../../docker/container-client.js';
import type { Ownership } from '../../managed/ownership.js';

/** Everything observed about one DockerContainer on one host, before deciding. */
export interface ContainerFacts {
  paused: boolean;
  policyViolation: boolean;
  /** A referenced Secret or ConfigMap (or key) is missing. */
  configMissing: boolean;
  /** DockerNetworks, DockerVolumes or the DockerImage not ready on this host. */
  missingDependencies: readonly string[];
  /** The image to create from is present on the host. */
  imagePresent: boolean;
  desired: 'Running' | 'Stopped';
  container?: {
    ownership: Ownership;
    /** The spec-hash label matches what the spec asks for now. */
    upToDate: boolean;
    running: boolean;
    restarting: boolean;
    /** Docker is removing it (`docker rm -f` in progress): it is about to be gone. */
    removing?: boolean;
    exitCode: number;
    oomKilled: boolean;
    health?: ContainerHealth;
    restartCount: number;
    /** Seconds since it last started; undefined if never. */
    startedSecondsAgo?: number;
    /** Created and never started (or its only start failed): Docker's `created` state. */
    neverStarted?: boolean;
  };
  /** Restart policy, memory, CPUs or pids limit differ (updated in place). */
  updateNeeded: boolean;
  /** Network attachments differ (connect/disconnect in place). */
  networksDiffer: boolean;
  restartPolicy: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  /** Restart count at the previous observation (machine context). */
  previousRestartCount: number;
  /** The last phase was CrashLoopBackOff: a short run in between crashes does not end it. */
  inCrashLoop: boolean;
  /** The last phase was Stopped: Dockyard itself stopped it (spec.state Stopped). */
  stoppedByDockyard?: boolean;
  /** restartPolicy.maximumRetryCount (on-failure only); undefined means no limit. */
  maximumRetryCount?: number;
  /** Restarts Dockyard made itself after an OOM kill Docker's policy did not retry (machine context). */
  retriesByDockyard?: number;
  /**
   * The dockyard.io/rerun annotation has a value not honoured yet: a finished
   * (Completed or Failed) container is started again, once.
   */
  rerunRequested?: boolean;
}

export type ContainerSituation =
  | { type: 'PAUSED' }
  | { type: 'POLICY_VIOLATION' }
  | { type: 'CONFIG_MISSING' }
  | { type: 'DEPENDENCIES_MISSING' }
  | { type: 'CONFLICT' }
  | { type: 'IMAGE_MISSING' }
  | { type: 'REMOVING' }
  | { type: 'MISSING'; start: boolean }
  | { type: 'OUTDATED'; start: boolean }
  | { type: 'NEEDS_UPDATE' }
  | { type: 'NETWORKS_DIFFER' }
  | { type: 'SHOULD_STOP' }
  | { type: 'STOPPED' }
  | { type: 'CRASH_LOOPING'; restartCount: number }
  | { type: 'FAILED'; exitCode: number; oomKilled?: true }
  /** A run to completion: exited 0 under restart policy no / on-failure. */
  | { type: 'COMPLETED' }
  /** A finished (Completed or Failed) container someone asked to run again (dockyard.io/rerun). */
  | { type: 'RERUN' }
  | { type: 'NOT_RUNNING' }
  | { type: 'OOM_RETRY' }
  | { type: 'RUNNING'; health: ContainerHealth | 'none'; restartCount: number };

/** A container that died and was started again within this many seconds is still crash-looping. */
export const CRASH_WINDOW_SECONDS = 10;

/** Exit codes of a process stopped by SIGTERM or SIGKILL: someone stopped it, it did not fail. */
const STOPPED_BY_SIGNAL = new Set([137, 143]);

/**
 * What the observation means, in priority order. Pure and table-tested: the
 * xstate machine turns this into a phase and actions.
 */
export function classify(f: ContainerFacts): ContainerSituation {
  if (f.paused) return { type: 'PAUSED' };
  if (f.policyViolation) return { type: 'POLICY_VIOLATION' };
  const c = f.container;
  if (c && c.ownership !== 'ours') return { type: 'CONFLICT' };
  if (f.configMissing) return { type: 'CONFIG_MISSING' };
  if (f.missingDependencies.length > 0) return { type: 'DEPENDENCIES_MISSING' };
  // Removed outside Dockyard and not gone yet: starting it now would fail
  // ("marked for removal"); its destroy event brings the next look.
  if (c?.removing) return { type: 'REMOVING' };
  const start = f.desired === 'Running';
  if (!c || !c.upToDate) {
    if (!f.imagePresent) return { type: 'IMAGE_MISSING' };
    return c ? { type: 'OUTDATED', start } : { type: 'MISSING', start };
  }
  if (f.updateNeeded) return { type: 'NEEDS_UPDATE' };
  if (f.networksDiffer) return { type: 'NETWORKS_DIFFER' };
  if (f.desired === 'Stopped')
    return c.running || c.restarting ? { type: 'SHOULD_STOP' } : { type: 'STOPPED' };
  // Docker's restart policy is bringing it back after a crash (it sits in "restarting"
  // between attempts), or it just came back from one.
  const upBriefly = c.running && (c.startedSecondsAgo ?? 0) < CRASH_WINDOW_SECONDS;
  const justRestarted = upBriefly && (c.restartCount > f.previousRestartCount || f.inCrashLoop);
  if (c.restarting || justRestarted) return { type: 'CRASH_LOOPING', restartCount: c.restartCount };
  if (c.running) return { type: 'RUNNING', health: c.health ?? 'none', restartCount: c.restartCount };
  const finished = exited(f, c);
  const done = finished.type === 'COMPLETED' || finished.type === 'FAILED';
  return done && f.rerunRequested ? { type: 'RERUN' } : finished;
}

/**
 * A container that is not running and that Docker will not restart, read as
 * kubelet reads container states: one that never ran, or that Dockyard itself
 * stopped, is started whatever its exit code and restart policy say; an OOM
 * kill is a failure (its 137 is no manual stop), retried only as far as the
 * restart policy's retry count allows.
 */
function exited(f: ContainerFacts, c: NonNullable<ContainerFacts['container']>): ContainerSituation {
  if (c.neverStarted || f.stoppedByDockyard) return { type: 'NOT_RUNNING' };
  if (c.oomKilled) return oomKilled(f, c);
  // A policy of no / on-failure means it stays down (a failure, or a finished
  // run: a migration, a seed job) unless someone stopped it by signal; with
  // always / unless-stopped only a manual stop explains it.
  const policyKeepsItDown = f.restartPolicy === 'no' || f.restartPolicy === 'on-failure';
  if (policyKeepsItDown && c.exitCode === 0) return { type: 'COMPLETED' };
  if (policyKeepsItDown && !STOPPED_BY_SIGNAL.has(c.exitCode))
    return { type: 'FAILED', exitCode: c.exitCode };
  return { type: 'NOT_RUNNING' };
}

function oomKilled(f: ContainerFacts, c: NonNullable<ContainerFacts['container']>): ContainerSituation {
  const failed = { type: 'FAILED', exitCode: c.exitCode, oomKilled: true } as const;
  switch (f.restartPolicy) {
    case 'no':
      return failed;
    case 'on-failure': {
      // Docker counted the restarts it made (a non-zero exit); an OOM kill
      // whose main process still exited 0 it did not retry, so Dockyard
      // does, counting its own restarts against the same limit.
      const used = c.restartCount + (f.retriesByDockyard ?? 0);
      const left = f.maximumRetryCount === undefined || used < f.maximumRetryCount;
      return left ? { type: 'OOM_RETRY' } : failed;
    }
    default:
      // always / unless-stopped: Docker restarts an OOM kill itself; still
      // exited means someone stopped it since.
      return { type: 'NOT_RUNNING' };
  }
}
