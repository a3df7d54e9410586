import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthorizationV1Api, CoordinationV1Api, EventsV1Api, KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  CHART_DIR,
  INSTALL_MANIFEST,
  INSTALL_NAMESPACE,
  INSTALL_RELEASE,
  REPO_ROOT,
  renderInstallManifest,
} from '../../scripts/render-manifests.js';
import { parseControllerArgs } from '../../src/cli/controller-options.js';
import { ALL_KINDS } from '../../src/crds/index.js';
import type { ControlPlane } from '../../src/localenv/control-plane.js';
import { run } from '../../src/localenv/exec.js';
import { ensureHelm } from '../../src/localenv/helm.js';
import { waitFor } from '../../src/localenv/process.js';
import { CONTROL_PLANE_START_TIMEOUT_MS, startControlPlane } from '../support/control-plane.js';
import { isReady, Kube } from '../support/kube.js';
import { LAB_START_TIMEOUT_MS, startLab, type Lab } from '../support/lab.js';
import { LEVEL, type LogLine } from '../support/log-capture.js';
import { killAllTestProcesses, TestProcess } from '../support/test-process.js';

// The Helm chart (charts/dockyard) and the plain install rendered from it
// (manifests/): helm lint, rendering, the values schema, an exact RBAC snapshot,
// and then the acceptance test: the rendered manifests on a real API server,
// the real `dockyard controller` running under exactly the chart's RBAC, and
// examples/quickstart.yaml converging on a real Docker node.

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
}

interface ContainerSpec {
  name: string;
  args: string[];
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  ports: Array<{ name: string; containerPort: number }>;
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
}

interface DeploymentSpec {
  replicas: number;
  strategy: { type: string };
  template: { spec: { serviceAccountName: string; containers: ContainerSpec[] } };
}

const log = (m: string) => process.env.DOCKYARD_TEST_VERBOSE && console.log(`[chart] ${m}`);
const ALL_ON = [
  '--set',
  'replicaCount=3',
  '--set',
  'metrics.serviceMonitor.enabled=true',
  '--set',
  'metrics.prometheusRule.enabled=true',
  '--set',
  'metrics.dashboard.enabled=true',
];
// Every Dockyard kind (npm run generate writes them into the chart's RBAC).
const KINDS = ALL_KINDS.map((d) => d.plural);

/** The whole of the chart's RBAC: any change to it must change this snapshot, on purpose. */
const EXPECTED_RULES: Record<string, PolicyRule[]> = {
  'ClusterRole/dockyard-controller': [
    { apiGroups: ['dockyard.io'], resources: KINDS, verbs: ['list', 'watch', 'patch'] },
    { apiGroups: ['dockyard.io'], resources: KINDS.map((k) => `${k}/status`), verbs: ['patch'] },
    { apiGroups: ['dockyard.io'], resources: ['dockercontainers'], verbs: ['create', 'delete'] },
    {
      apiGroups: ['dockyard.io'],
      resources: ['dockernetworks', 'dockervolumes', 'dockercontainers', 'dockerservices'],
      verbs: ['create', 'get', 'delete'],
    },
    {
      apiGroups: ['apps'],
      resources: ['controllerrevisions'],
      verbs: ['list', 'watch', 'create', 'delete'],
    },
    { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
    { apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['create', 'patch', 'delete'] },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
    { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
  ],
  'Role/dockyard-leader-election': [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    {
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      resourceNames: ['dockyard-controller'],
      verbs: ['get', 'update'],
    },
  ],
};

/** Applied next to examples/quickstart.yaml. */
const ENV_CHECK = `apiVersion: v1
kind: Secret
metadata: { name: greeting, namespace: quickstart }
stringData: { word: hello }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: quickstart }
data: { mode: quick }
---
apiVersion: dockyard.io/v1alpha1
kind: DockerContainer
metadata: { name: env-check, namespace: quickstart }
spec:
  hostName: local
  imageRef: { name: busybox }
  command: ["sleep", "3600"]
  env:
    - name: GREETING
      valueFrom: { secretKeyRef: { name: greeting, key: word } }
    - name: MODE
      valueFrom: { configMapKeyRef: { name: settings, key: mode } }
`;

let helm: string;
let scratch: string;

function parseDocs(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

async function template(...args: string[]): Promise<K8sObject[]> {
  const { stdout } = await run(helm, [
    'template',
    INSTALL_RELEASE,
    CHART_DIR,
    '--namespace',
    INSTALL_NAMESPACE,
    ...args,
  ]);
  return parseDocs(stdout);
}

/** The error message of a helm command that must fail. */
async function helmFails(args: string[]): Promise<string> {
  try {
    await run(helm, args);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error(`helm ${args.join(' ')} succeeded but should have failed`);
}

function one(objects: K8sObject[], kind: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1) throw new Error(`want one ${kind}, rendered ${found.length}`);
  return found[0]!;
}

function deploymentOf(objects: K8sObject[]): DeploymentSpec {
  return one(objects, 'Deployment').spec as DeploymentSpec;
}

function controllerArgs(objects: K8sObject[]) {
  const [command, ...flags] = deploymentOf(objects).template.spec.containers[0]!.args;
  expect(command).toBe('controller');
  return parseControllerArgs(flags, { stdoutIsTTY: false, podNamespace: undefined });
}

function rulesByRole(objects: K8sObject[]): Record<string, PolicyRule[]> {
  return Object.fromEntries(
    objects
      .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
      .map((o) => [`${o.kind}/${o.metadata.name}`, o.rules as PolicyRule[]]),
  );
}

/**
 * A call the API server refused (403 Forbidden), as the controller logs it: the client's
 * "HTTP-Code: 403" error, a Status body, or a status code field.
 */
const REFUSED = /forbidden|HTTP-Code: 403\b|"(code|statusCode|status)":\s*403\b/i;
const refused = (l: LogLine) => REFUSED.test(JSON.stringify(l));

/**
 * Rejects as soon as `proc` logs a refused call, so a missing RBAC rule fails
 * the test at once and names the call, instead of surfacing as a timeout.
 */
function refusalWatch(proc: TestProcess): { refused: Promise<never>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const lines = [
        ...proc.lines.filter(({ line }) => refused(line)).map(({ line }) => JSON.stringify(line)),
        ...proc.other.filter((text) => REFUSED.test(text)),
      ];
      if (lines.length > 0) {
        clearInterval(timer);
        reject(new Error(`the API server refused a call of the controller:\n${lines.join('\n')}`));
      }
    }, 250);
    timer.unref();
  });
  promise.catch(() => {}); // observed through `refused` by whoever races it
  return { refused: promise, stop: () => clearInterval(timer) };
}

beforeAll(async () => {
  helm = await ensureHelm(log);
  scratch = mkdtempSync(join(tmpdir(), 'dockyard-chart-'));
}, 600_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('helm chart charts/dockyard', () => {
  it('passes helm lint, also with --strict and with every option on', async () => {
    for (const args of [[], ['--strict'], ['--strict', ...ALL_ON]]) {
      const { stdout } = await run(helm, ['lint', CHART_DIR, ...args]);
      expect(stdout, `helm lint ${args.join(' ')}`).toContain('0 chart(s) failed');
      expect(stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    }
  });

  it('renders the defaults: one replica, no leader election, Recreate, hardened pod, nothing optional', async () => {
    const objects = await template();
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ClusterRole/dockyard-controller',
      'ClusterRoleBinding/dockyard-controller',
      'Deployment/dockyard-controller',
      'Role/dockyard-leader-election',
      'RoleBinding/dockyard-leader-election',
      'Service/dockyard-metrics',
      'ServiceAccount/dockyard',
    ]);
    for (const o of objects.filter((o) => o.kind !== 'ClusterRole' && o.kind !== 'ClusterRoleBinding')) {
      expect(o.metadata.namespace, `${o.kind} namespace`).toBe(INSTALL_NAMESPACE);
    }
    const deployment = deploymentOf(objects);
    expect(deployment.replicas).toBe(1);
    expect(deployment.strategy.type).toBe('Recreate');
    expect(deployment.template.spec.serviceAccountName).toBe('dockyard');
    const container = deployment.template.spec.containers[0]!;
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container.ports).toEqual([
      { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
      { name: 'health', containerPort: 8081, protocol: 'TCP' },
    ]);
    expect(container.resources.requests).toBeDefined();
    expect(container.resources.limits).toBeDefined();
    // The args are what the real CLI parser accepts, and mean what the values say.
    expect(controllerArgs(objects)).toMatchObject({
      leaderElect: false,
      leaderElectionNamespace: INSTALL_NAMESPACE,
      leaderElectionId: 'dockyard-controller',
      metricsBindAddress: ':8080',
      healthProbeBindAddress: ':8081',
      logFormat: 'json',
      logLevel: 'info',
      maxConcurrentReconciles: 128,
      maxConcurrentReconcilesPerHost: 4,
      shards: 1,
      syncPeriodMs: 600_000,
      watchNamespace: undefined,
    });
  });

  it('renders replicas=3 with ServiceMonitor, PrometheusRule and dashboard on', async () => {
    const objects = await template(...ALL_ON);
    const deployment = deploymentOf(objects);
    expect(deployment.replicas).toBe(3);
    expect(deployment.strategy.type).toBe('RollingUpdate');
    expect(controllerArgs(objects).leaderElect).toBe(true);
    expect(one(objects, 'PodDisruptionBudget').spec).toMatchObject({ maxUnavailable: 1 });

    const monitor = one(objects, 'ServiceMonitor');
    expect(monitor.spec).toMatchObject({ endpoints: [{ port: 'metrics', path: '/metrics' }] });

    const rule = one(objects, 'PrometheusRule') as K8sObject & {
      spec: { groups: Array<{ rules: Array<{ alert: string; expr: string; for: string }> }> };
    };
    const alerts = Object.fromEntries(rule.spec.groups.flatMap((g) => g.rules).map((r) => [r.alert, r]));
    expect(Object.keys(alerts).sort()).toEqual([
      'DockyardDriftStorm',
      'DockyardHostDown',
      'DockyardReconcileErrors',
    ]);
    expect(alerts.DockyardHostDown!.expr).toMatch(/dockyard_host_up\{[^}]*\}\) == 0$/);
    expect(alerts.DockyardHostDown!.for).toBe('5m');
    expect(alerts.DockyardReconcileErrors!.expr).toMatch(
      /rate\(controller_runtime_reconcile_errors_total\{[^}]*\}\[5m\]\)\) > 0$/,
    );
    expect(alerts.DockyardDriftStorm!.expr).toMatch(
      /rate\(dockyard_drift_repairs_total\{[^}]*\}\[10m\]\)\) > 0\.1$/,
    );
    // Prometheus templates survive Helm's own templating.
    expect(JSON.stringify(rule)).toContain('{{ $labels.host }}');

    const dashboard = one(objects, 'ConfigMap') as K8sObject & { data: Record<string, string> };
    expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    const json = JSON.parse(dashboard.data['dockyard.json']!) as {
      panels: Array<{ type: string; targets?: Array<{ expr: string }> }>;
    };
    const exprs = json.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr);
    for (const prefix of ['controller_runtime_', 'workqueue_', 'dockyard_']) {
      expect(
        exprs.some((e) => e.includes(prefix)),
        `a panel on ${prefix}* metrics`,
      ).toBe(true);
    }
  });

  it("renders shards=3: --shards, leader election on, and the shard Leases' rights in its namespace only", async () => {
    const objects = await template('--set', 'replicaCount=3', '--set', 'shards=3');
    expect(controllerArgs(objects)).toMatchObject({ shards: 3, leaderElect: true });
    const leaseRules = rulesByRole(objects)[`Role/dockyard-leader-election`];
    expect(leaseRules).toContainEqual({
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      verbs: ['list', 'update', 'delete'],
    });
    // One replica may hold every shard: leader election still turns on by itself.
    expect(controllerArgs(await template('--set', 'shards=2'))).toMatchObject({
      shards: 2,
      leaderElect: true,
    });
    const args = ['template', INSTALL_RELEASE, CHART_DIR, '--set', 'shards=2'];
    expect(await helmFails([...args, '--set', 'leaderElection.enabled=false'])).toMatch(
      /shards above 1 needs leader election/,
    );
    // Every replica serves the agents of its own shards, behind one Service with no session affinity.
    const withAgents = await template(
      '--set',
      'shards=2',
      '--set',
      'agent.enabled=true',
      '--set',
      'agent.advertiseAddress=agents.example.com:9443',
    );
    const sharded = controllerArgs(withAgents);
    expect(sharded).toMatchObject({ shards: 2, leaderElect: true });
    expect(sharded.agentEndpoint?.advertise).toBe('agents.example.com:9443');
    const agentService = withAgents.find(
      (o) => o.kind === 'Service' && o.metadata.name.endsWith('-agent'),
    ) as (K8sObject & { spec: { sessionAffinity?: string } }) | undefined;
    expect(agentService?.spec).toBeDefined();
    expect(agentService?.spec.sessionAffinity).toBeUndefined();
  });

  it('rejects bad values through values.schema.json', async () => {
    const cases: Array<[string, RegExp]> = [
      ['replicaCount: two\n', /replicaCount.*want integer/s],
      ['replicaCount: 0\n', /replicaCount.*minimum/s],
      ['replicas: 3\n', /additional propert.*replicas/s],
      ['controller:\n  logLevel: loud\n', /logLevel/],
      ['controller:\n  syncPeriod: ten minutes\n', /syncPeriod/],
      ['leaderElection:\n  enabled: maybe\n', /leaderElection/],
      ['shards: 0\n', /shards.*minimum/s],
    ];
    for (const [values, error] of cases) {
      const file = join(scratch, 'bad-values.yaml');
      writeFileSync(file, values);
      const message = await helmFails(['template', INSTALL_RELEASE, CHART_DIR, '-f', file]);
      expect(message, values).toMatch(error);
    }
    // Several replicas without leader election would reconcile everything twice.
    expect(
      await helmFails([
        'template',
        INSTALL_RELEASE,
        CHART_DIR,
        '--set',
        'replicaCount=2',
        '--set',
        'leaderElection.enabled=false',
      ]),
    ).toMatch(/leaderElection.enabled=false needs replicaCount: 1/);
  });

  it('grants exactly the RBAC snapshot: no wildcards, Secrets never listed or watched, Lease rights only in its namespace', async () => {
    for (const args of [[], ALL_ON]) {
      const objects = await template(...args);
      const rules = rulesByRole(objects);
      expect(rules).toEqual(EXPECTED_RULES);
      for (const rule of Object.values(rules).flat()) {
        for (const field of [rule.apiGroups, rule.resources, rule.resourceNames, rule.verbs]) {
          for (const value of field ?? []) expect(value, JSON.stringify(rule)).not.toContain('*');
        }
        if (rule.resources?.includes('secrets')) {
          expect(rule.verbs).not.toContain('list');
          expect(rule.verbs).not.toContain('watch');
        }
        expect(rule.resources ?? []).not.toContain('serviceaccounts/token');
      }
      expect(one(objects, 'Role').metadata.namespace).toBe(INSTALL_NAMESPACE);
      // Both bindings name the chart's ServiceAccount.
      for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
        expect(one(objects, kind).subjects).toEqual([
          { kind: 'ServiceAccount', name: 'dockyard', namespace: INSTALL_NAMESPACE },
        ]);
      }
    }
  });

  it('manifests/install.yaml is what the chart renders now (run `npx tsx scripts/render-manifests.ts`)', async () => {
    const committed = readFileSync(INSTALL_MANIFEST, 'utf8');
    expect(committed === (await renderInstallManifest(helm)), 'manifests/install.yaml is stale').toBe(true);
    const objects = parseDocs(committed);
    expect(objects[0]).toMatchObject({ kind: 'Namespace', metadata: { name: INSTALL_NAMESPACE } });
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name);
    expect(crds.sort()).toEqual(KINDS.map((k) => `${k}.dockyard.io`).sort());
    // The kustomization applies install.yaml only, so the CRDs are not applied twice.
    const kustomization = parseDocs(readFileSync(join(REPO_ROOT, 'manifests', 'kustomization.yaml'), 'utf8'));
    expect(kustomization[0]?.resources).toEqual(['install.yaml']);
  });
});

describe('the plain install on a real API server, and the quickstart under the chart RBAC', () => {
  let cp: ControlPlane;
  let lab: Lab;
  let kube: Kube;

  const kubectl = (args: string[], opts: { kubeconfig?: string; input?: string } = {}) =>
    run(
      cp.kubectlPath,
      [
        `--kubeconfig=${opts.kubeconfig ?? cp.kubeconfigPath}`,
        `--cache-dir=${join(cp.dataDir, 'kubectl-cache')}`,
        ...args,
      ],
      opts.input !== undefined ? { input: opts.input } : {},
    );

  beforeAll(async () => {
    [cp, lab] = await Promise.all([startControlPlane(), startLab({ nodes: [{ name: 'local', tls: true }] })]);
    kube = new Kube(cp);
    // The quickstart's DockerImage (busybox:1.36, pullPolicy IfNotPresent) finds it present.
    const node = lab.node('local');
    await node.loadImage(lab.hostDocker, lab.workloadImage);
    await node.client().getImage(lab.workloadImage).tag({ repo: 'busybox', tag: '1.36' });
  }, CONTROL_PLANE_START_TIMEOUT_MS + LAB_START_TIMEOUT_MS);

  afterAll(async () => {
    await killAllTestProcesses();
    await Promise.all([lab?.stop(), cp?.stop()]);
  });

  it('accepts manifests/install.yaml (kubectl apply -f) and manifests/ (kubectl apply -k)', async () => {
    // For real, minus the Deployment: nothing here could run its image.
    const objects = parseDocs(readFileSync(INSTALL_MANIFEST, 'utf8'));
    const withoutDeployment = objects
      .filter((o) => o.kind !== 'Deployment')
      .map((o) => stringify(o))
      .join('---\n');
    await kubectl(['apply', '-f', '-'], { input: withoutDeployment });
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      ...KINDS.map((k) => `crd/${k}.dockyard.io`),
    ]);
    // Both ways in, whole (Deployment included), checked by the API server.
    const file = await kubectl(['apply', '--dry-run=server', '-f', INSTALL_MANIFEST]);
    expect(file.stdout).toContain('deployment.apps/dockyard-controller created (server dry run)');
    const kustomize = await kubectl(['apply', '--dry-run=server', '-k', join(REPO_ROOT, 'manifests')]);
    expect(kustomize.stdout).toContain('deployment.apps/dockyard-controller created (server dry run)');
    expect(kustomize.stdout.match(/customresourcedefinition\.apiextensions\.k8s\.io\//g)).toHaveLength(
      KINDS.length,
    );
    // The HA rendering (PDB, RollingUpdate) too; the Prometheus Operator kinds have no CRDs here.
    const ha = (await template('--set', 'replicaCount=3'))
      .filter((o) => !o.apiVersion.startsWith('monitoring.coreos.com/'))
      .map((o) => stringify(o))
      .join('---\n');
    const haResult = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: ha });
    expect(haResult.stdout).toContain(
      'poddisruptionbudget.policy/dockyard-controller created (server dry run)',
    );
  });

  it('runs the quickstart with the real controller under exactly the chart ServiceAccount', async () => {
    const saKubeconfig = await cp.serviceAccountKubeconfig(INSTALL_NAMESPACE, 'dockyard');

    // What the ServiceAccount may and may not do, as the API server decides.
    const sa = new KubeConfig();
    sa.loadFromFile(saKubeconfig);
    const authz = sa.makeApiClient(AuthorizationV1Api);
    const can = async (attrs: {
      verb: string;
      group?: string;
      resource: string;
      subresource?: string;
      namespace?: string;
      name?: string;
    }) =>
      (await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attrs } } })).status
        ?.allowed === true;
    expect(await can({ verb: 'get', resource: 'secrets', namespace: 'team-a', name: 'tls' })).toBe(true);
    expect(await can({ verb: 'list', resource: 'secrets', namespace: 'team-a' })).toBe(false);
    expect(await can({ verb: 'watch', resource: 'secrets' })).toBe(false);
    // It creates DockerContainers as a DockerService's replicas and the kinds a DockerComposeStack
    // converts to; never hosts, images, services' owners or stacks, and it never updates one.
    expect(await can({ verb: 'create', group: 'dockyard.io', resource: 'dockercontainers' })).toBe(true);
    expect(await can({ verb: 'create', group: 'dockyard.io', resource: 'dockervolumes' })).toBe(true);
    expect(await can({ verb: 'create', group: 'dockyard.io', resource: 'dockerhosts' })).toBe(false);
    expect(await can({ verb: 'create', group: 'dockyard.io', resource: 'dockerimages' })).toBe(false);
    expect(await can({ verb: 'create', group: 'dockyard.io', resource: 'dockercomposestacks' })).toBe(false);
    expect(await can({ verb: 'update', group: 'dockyard.io', resource: 'dockercontainers' })).toBe(false);
    expect(await can({ verb: 'update', group: 'dockyard.io', resource: 'dockerhosts' })).toBe(false);
    expect(
      await can({ verb: 'patch', group: 'dockyard.io', resource: 'dockerhosts', subresource: 'status' }),
    ).toBe(true);
    expect(
      await can({ verb: 'update', group: 'coordination.k8s.io', resource: 'leases', namespace: 'default' }),
    ).toBe(false);
    expect(
      await can({
        verb: 'update',
        group: 'coordination.k8s.io',
        resource: 'leases',
        namespace: INSTALL_NAMESPACE,
        name: 'someone-elses-lease',
      }),
    ).toBe(false);

    const controller = new TestProcess(
      'dockyard controller',
      'src/main.ts',
      [
        'controller',
        '--leader-elect',
        `--leader-election-namespace=${INSTALL_NAMESPACE}`,
        '--metrics-bind-address=127.0.0.1:0',
        '--health-probe-bind-address=127.0.0.1:0',
        '--log-format=json',
      ],
      { KUBECONFIG: saKubeconfig, KUBERNETES_SERVICE_HOST: undefined },
    );
    const watch = refusalWatch(controller);
    onTestFinished(() => watch.stop());
    /** Fails at once on a refused call; any failure carries the controller's last log lines. */
    const guarded = async <T>(step: Promise<T>): Promise<T> => {
      try {
        return await Promise.race([step, watch.refused]);
      } catch (err) {
        const problems = controller.lines
          .filter(({ line }) => line.level >= LEVEL.warn)
          .slice(-10)
          .map(({ line }) => JSON.stringify(line));
        throw new Error(
          `${err instanceof Error ? err.message : String(err)}\n${controller.describe()}\n${problems.join('\n')}`,
          { cause: err },
        );
      }
    };
    const took = await controller.waitForLog(
      (l) => l.msg === 'successfully acquired lease',
      60_000,
      'acquire the Lease',
    );
    const lease = await cp
      .kubeConfig()
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: INSTALL_NAMESPACE, name: 'dockyard-controller' });
    expect(lease.spec?.holderIdentity).toBe(took.line.identity);

    // The DockerHost the quickstart places everything on, set up so that every rule of the
    // chart is exercised: its TLS client Secret (secrets get) and a namespace selector
    // (namespaces get).
    const node = lab.node('local');
    const tls = node.tls!;
    await kube.core.createNamespacedSecret({
      namespace: INSTALL_NAMESPACE,
      body: {
        metadata: { name: 'local-docker-tls' },
        stringData: { 'ca.crt': tls.ca, 'tls.crt': tls.cert, 'tls.key': tls.key },
      },
    });
    await kube.create('DockerHost', undefined, 'local', {
      endpoint: node.endpoint,
      tls: { secretRef: { namespace: INSTALL_NAMESPACE, name: 'local-docker-tls' } },
      allowedNamespaces: {
        from: 'Selector',
        selector: { matchLabels: { 'kubernetes.io/metadata.name': 'quickstart' } },
      },
    });
    await guarded(kube.waitFor('DockerHost', undefined, 'local', isReady, 'Ready', 60_000));

    await kubectl(['apply', '-f', join(REPO_ROOT, 'examples', 'quickstart.yaml')]);
    // One more container next to the quickstart's, with env from a Secret and a ConfigMap
    // (secrets get and configmaps get in a tenant namespace).
    await kubectl(['apply', '-f', '-'], { input: ENV_CHECK });
    await guarded(
      kubectl([
        'wait',
        '--for=condition=Ready',
        '--timeout=180s',
        '-n',
        'quickstart',
        'dockernetworks,dockervolumes,dockerimages,dockercontainers',
        '--all',
      ]),
    );
    const { stdout: listed } = await kubectl([
      'get',
      '-n',
      'quickstart',
      'dockernetworks,dockervolumes,dockerimages,dockercontainers',
      '-o',
      'name',
    ]);
    expect(listed.trim().split('\n').sort()).toEqual([
      'dockercontainer.dockyard.io/client',
      'dockercontainer.dockyard.io/env-check',
      'dockercontainer.dockyard.io/server',
      'dockerimage.dockyard.io/busybox',
      'dockernetwork.dockyard.io/app',
      'dockervolume.dockyard.io/data',
    ]);

    // The two containers talk to each other over the quickstart network, on the node.
    const answer = await guarded(
      waitFor(
        async () => {
          const { exitCode, output } = await node.exec([
            'docker',
            'exec',
            'quickstart.client',
            'cat',
            '/tmp/answer',
          ]);
          return exitCode === 0 && output.includes('hello from server') ? output : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1_000, what: 'quickstart.client to have an answer from the server' },
      ),
    );
    expect(answer).toContain('hello from server');
    const envCheck = await node.client().getContainer('quickstart.env-check').inspect();
    expect(envCheck.Config.Env).toEqual(expect.arrayContaining(['GREETING=hello', 'MODE=quick']));

    // Events were written (events.k8s.io create) under the same RBAC.
    const events = await cp
      .kubeConfig()
      .makeApiClient(EventsV1Api)
      .listNamespacedEvent({ namespace: 'quickstart' });
    expect(events.items.length).toBeGreaterThan(0);

    // A clean stop releases the Lease (update) and exits 0.
    controller.signal('SIGTERM');
    const exit = await controller.exited;
    expect(exit.code, controller.describe()).toBe(0);
    expect(
      controller.find((l) => l.msg === 'released lease'),
      controller.describe(),
    ).toBeDefined();

    // Not one call was refused, start to stop: the chart's RBAC covers everything the controller does.
    expect(
      controller.lines.filter(({ line }) => refused(line)).map(({ line }) => JSON.stringify(line)),
    ).toEqual([]);
    expect(controller.other.filter((text) => REFUSED.test(text))).toEqual([]);
  }, 300_000);
});
