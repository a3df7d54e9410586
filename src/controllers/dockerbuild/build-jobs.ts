import type { JobRun, JobView } from '../image-push/background-jobs.js';
import type { BuildMachineFailure } from './build-machine.js';

/** How a background build ended. */
export type BuildResult =
  | { ok: true; hash: string; imageId: string; log: string; durationMs: number; finishedAt: number }
  | {
      ok: false;
      hash: string;
      reason: BuildMachineFailure;
      message: string;
      log: string;
      durationMs: number;
      finishedAt: number;
    };

export type BuildView = JobView<BuildResult>;
export type BuildRun = JobRun<BuildResult>;
