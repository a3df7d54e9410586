import { ControlPlane } from '../../src/localenv/control-plane.js';

/** A cold build of the binaries is done by scripts/prepare-env.ts; a start is seconds. */
export const CONTROL_PLANE_START_TIMEOUT_MS = 120_000;

/**
 * Starts a private control plane for one test file. Each file gets its own so
 * that tests that restart or pause the API server cannot disturb others.
 */
export async function startControlPlane(opts: { watchCache?: boolean } = {}): Promise<ControlPlane> {
  const cp = new ControlPlane({ ...opts, log: (m) => process.env.DOCKYARD_TEST_VERBOSE && console.log(m) });
  await cp.start();
  return cp;
}
