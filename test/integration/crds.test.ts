import { ApiException, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrds } from '../../src/crds/install.js';
import { ALL_KINDS } from '../../src/crds/index.js';
import { SCHEMA_CASES, type SchemaCase } from '../../src/crds/schema-cases.fixture.js';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { run } from '../../src/localenv/exec.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';

// The generated CRDs against the real kube-apiserver: they install and become
// Established (CEL compiles within the cost budget), every case of the schema
// table is accepted or refused with a message naming the field, and kubectl's
// explain and category listing work.

let cp: ControlPlane;
const NAMESPACE = 'schema';

beforeAll(async () => {
  cp = await startControlPlane();
  await installCrds(cp.kubeConfig());
  await cp
    .kubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name: NAMESPACE } } });
}, CONTROL_PLANE_START_TIMEOUT_MS);

afterAll(async () => {
  await cp?.stop();
});

function pluralOf(kind: string): { plural: string; namespaced: boolean } {
  const def = ALL_KINDS.find((d) => d.kind === kind);
  if (!def) throw new Error(`unknown kind ${kind}`);
  return { plural: def.plural, namespaced: def.scope === 'Namespaced' };
}

async function dryRunCreate(c: SchemaCase, index: number): Promise<{ code: number; message: string }> {
  const api = cp.kubeConfig().makeApiClient(CustomObjectsApi);
  const { plural, namespaced } = pluralOf(c.kind);
  const body = {
    apiVersion: 'dockyard.io/v1alpha1',
    kind: c.kind,
    metadata: { name: c.objectName ?? `case-${index}` },
    spec: c.spec,
  };
  try {
    if (namespaced) {
      await api.createNamespacedCustomObject({
        group: 'dockyard.io',
        version: 'v1alpha1',
        namespace: NAMESPACE,
        plural,
        body,
        dryRun: 'All',
      });
    } else {
      await api.createClusterCustomObject({
        group: 'dockyard.io',
        version: 'v1alpha1',
        plural,
        body,
        dryRun: 'All',
      });
    }
    return { code: 201, message: '' };
  } catch (err) {
    if (err instanceof ApiException) {
      const status = JSON.parse(String(err.body)) as { message?: string };
      return { code: err.code, message: status.message ?? '' };
    }
    throw err;
  }
}

describe('Dockyard CRDs on the real API server', () => {
  it.each(SCHEMA_CASES.map((c, i) => [`${c.kind}: ${c.name}`, c, i] as const))('%s', async (_name, c, i) => {
    const res = await dryRunCreate(c, i);
    if (c.valid) {
      expect(res, res.message).toMatchObject({ code: 201 });
    } else {
      expect(res.code, `expected 422 for ${c.name}`).toBe(422);
      expect(res.message).toContain(c.field);
    }
  });

  it('accepts every example manifest (server-side dry run)', async () => {
    const kubectl = (...args: string[]) => run(cp.kubectlPath, ['--kubeconfig', cp.kubeconfigPath, ...args]);
    // Namespaces first: a dry run creates nothing, so namespaced objects need them to exist.
    for (const ns of ['quickstart', 'edge', 'apps']) await kubectl('create', 'namespace', ns);
    for (const file of [
      'quickstart.yaml',
      'multi-host.yaml',
      'private-registry.yaml',
      'tls-dockerhost.yaml',
    ]) {
      const { stdout } = await kubectl('apply', '--dry-run=server', '-f', `examples/${file}`);
      expect(stdout, file).toMatch(/created \(server dry run\)/);
    }
    // The Compose project kustomize carries into a DockerComposeStack (its ConfigMap under a hashed name).
    await kubectl('create', 'namespace', 'compose-demo');
    const { stdout } = await kubectl('apply', '--dry-run=server', '-k', 'examples/compose-stack');
    expect(stdout).toMatch(/dockercomposestack\.dockyard\.io\/shop created \(server dry run\)/);
    expect(stdout).toMatch(/configmap\/shop-project-[a-z0-9]+ created \(server dry run\)/);
  });

  it('kubectl explain prints field docs for dockercontainer.spec.healthcheck', async () => {
    const { stdout } = await run(cp.kubectlPath, [
      '--kubeconfig',
      cp.kubeconfigPath,
      'explain',
      'dockercontainer.spec.healthcheck',
    ]);
    expect(stdout).toContain('A Docker healthcheck');
    // command and shell are alternatives (CEL), so neither is -required-.
    expect(stdout).toMatch(/command\s+<\[\]string>\n/);
    expect(stdout).toMatch(/shell\s+<string>\n/);
    expect(stdout).toContain('startPeriod');
  });

  it('kubectl get dockyard lists every kind with the printer columns', async () => {
    const api = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    await api.createClusterCustomObject({
      group: 'dockyard.io',
      version: 'v1alpha1',
      plural: 'dockerhosts',
      body: {
        apiVersion: 'dockyard.io/v1alpha1',
        kind: 'DockerHost',
        metadata: { name: 'lab-1' },
        spec: { endpoint: 'unix:///var/run/docker.sock' },
      },
    });
    await api.createNamespacedCustomObject({
      group: 'dockyard.io',
      version: 'v1alpha1',
      namespace: NAMESPACE,
      plural: 'dockervolumes',
      body: {
        apiVersion: 'dockyard.io/v1alpha1',
        kind: 'DockerVolume',
        metadata: { name: 'data' },
        spec: { hostName: 'lab-1' },
      },
    });
    const kubectl = (...args: string[]) => run(cp.kubectlPath, ['--kubeconfig', cp.kubeconfigPath, ...args]);
    const hosts = await kubectl('get', 'dhost');
    expect(hosts.stdout).toMatch(/NAME\s+MODE\s+ENDPOINT\s+READY\s+VERSION\s+POLICY\s+AGE/);
    expect(hosts.stdout).toMatch(/lab-1\s+unix:\/\/\/var\/run\/docker.sock\s+baseline/);
    const all = await kubectl('get', 'dockyard', '-A');
    expect(all.stdout).toContain('dockervolume.dockyard.io/data');
    const volume = await kubectl(
      'get',
      'dvol',
      '-n',
      NAMESPACE,
      'data',
      '-o',
      'jsonpath={.spec.deletionPolicy}',
    );
    expect(volume.stdout).toBe('Orphan'); // the schema default is applied by the API server
  });
});
