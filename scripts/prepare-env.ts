// Prepares everything the integration tests and dev mode cache: the control
// plane binaries (built from pinned Go modules: ~10 min the first time on two
// cores), Debian packages, the Docker daemon and the locally built images.
// Run by `npm test` before the tests so a cold machine shows its progress
// here rather than inside a test hook.
import { ensureControlPlaneBinaries } from '../src/localenv/controlplane-binaries.js';
import { HostDocker } from '../src/localenv/host-docker.js';
import { ensureNodeImage, ensureWorkloadImage } from '../src/localenv/images.js';
import { ensureDebianPackages } from '../src/localenv/apt.js';
import { ensureHelm } from '../src/localenv/helm.js';
import { ensureComposeLoader } from '../src/localenv/compose-loader.js';
import { ensureComposeCli } from '../src/localenv/compose-cli.js';
import { ensureCosignCli } from '../src/localenv/cosign-cli.js';

const started = Date.now();
const log = (m: string) => console.log(`[prepare] ${m}`);

// Tools the tests and the leak check call directly.
// lua5.4 and lua-dkjson run the Argo CD health checks in the tests (gitops/);
// chromium (headless) drives the dashboard's browser tests.
await ensureDebianPackages(['openssl', 'iproute2', 'lua5.4', 'lua-dkjson', 'chromium'], log);
const binaries = await ensureControlPlaneBinaries(log);
log(
  `control plane: kube-apiserver and kube-controller-manager ${binaries.kubernetesVersion}, ` +
    `etcd ${binaries.etcdVersion}`,
);
log(`helm: ${await ensureHelm(log)}`);
// The Compose loader `dockyard compose convert` and the stack controller run.
log(`Compose loader: ${await ensureComposeLoader(log)}`);
log(`docker compose: ${await ensureComposeCli(log)}`);
// The supply-chain tests sign images with cosign (offline, in a local registry; test/support/cosign.ts).
log(`cosign: ${await ensureCosignCli(log)}`);
const host = await HostDocker.ensure({ log });
try {
  const docker = host.client();
  log(`workload image: ${await ensureWorkloadImage(docker, log)}`);
  log(`node image: ${await ensureNodeImage(docker, log)}`);
  const version = await docker.version();
  log(`Docker Engine ${version.Version} (API ${version.ApiVersion})`);
} finally {
  await host.stop();
}
log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
