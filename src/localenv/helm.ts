// The helm CLI for the chart tests and scripts/render-manifests.ts, built like
// the control plane binaries (controlplane-binaries.ts): from the pinned Go
// module in tools/helm, once, into a cache entry keyed by a hash of its
// go.mod and go.sum, so a version bump is a new entry and never a stale binary.

import { join } from 'node:path';
import { ensurePinnedGoBinary, requiredVersion, type PinnedGoBinary } from './go-module.js';

const MODULE_DIR_IN_REPO = join('tools', 'helm');
const HELM_MODULE = 'helm.sh/helm/v4';

const HELM: PinnedGoBinary = {
  dirInRepo: MODULE_DIR_IN_REPO,
  module: HELM_MODULE,
  binary: 'helm',
  pkg: `${HELM_MODULE}/cmd/helm`,
  recipe: 'go build -trimpath CGO_ENABLED=0 -ldflags=-s -w + internal/version stamp v1',
  ldflags: versionLdflags,
  what: (version) => `helm ${version}`,
  expected: '~2 min on 2 cores',
};

/**
 * Returns the path of the helm binary built from tools/helm (about two
 * minutes on two cores the first time; later calls cost a stat). Parallel
 * callers (test files, `npm run generate`) build it once.
 */
export function ensureHelm(log: (msg: string) => void = () => {}): Promise<string> {
  return ensurePinnedGoBinary(HELM, log);
}

/** The helm version tools/helm/go.mod requires, e.g. "v4.3.2". */
export function readPinnedHelmVersion(goMod: string): string {
  return requiredVersion(goMod, HELM_MODULE, MODULE_DIR_IN_REPO);
}

/**
 * helm reports the version stamped at link time (`helm version`, the
 * User-Agent); a plain `go build` would say "v4.3" with "unreleased" metadata.
 * The Kubernetes version it assumes for `helm template` (.Capabilities) comes
 * from the client-go version in the build info, which go.mod pins.
 */
function versionLdflags(version: string): string {
  const pkg = 'helm.sh/helm/v4/internal/version';
  return [
    '-s',
    '-w',
    `-X ${pkg}.version=${version}`,
    `-X ${pkg}.metadata=`,
    `-X ${pkg}.gitTreeState=clean`,
  ].join(' ');
}
