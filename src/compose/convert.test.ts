import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ensureComposeLoader } from '../localenv/compose-loader.js';
import { convertProject, type ConvertOptions, type Manifest } from './convert.js';
import { ComposeConversionError } from './findings.js';
import { ComposeLoadError, loadComposeProject } from './project-loader.js';
import { renderConversion } from './render.js';

// The mapping from the loader's canonical project to Dockyard manifests, with
// the real loader (compose-go for WebAssembly): each case writes a small
// project to a temporary folder, loads it as the DockerComposeStack controller
// does (the folder mounted at /project) and converts it.

let root: string;
beforeAll(async () => {
  await ensureComposeLoader();
  root = mkdtempSync(join(tmpdir(), 'compose-convert-'));
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

let projectCount = 0;
function project(files: Record<string, string>): string {
  const dir = join(root, `p${++projectCount}`);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

interface LoadArgs {
  configFiles?: string[];
  profiles?: string[];
  environment?: Record<string, string>;
  envFiles?: string[];
}

async function load(dir: string, args: LoadArgs = {}) {
  return loadComposeProject({
    hostDir: dir,
    guestDir: '/project',
    workingDir: '/project',
    configFiles: (args.configFiles ?? []).map((f) => `/project/${f}`),
    envFiles: (args.envFiles ?? []).map((f) => `/project/${f}`),
    profiles: args.profiles ?? [],
    environment: args.environment ?? {},
    projectName: 'shop',
  });
}

const OPTIONS: ConvertOptions = {
  namespace: 'team',
  placement: { hostName: 'edge-1' },
  projectDir: '/project',
};

async function convert(
  files: Record<string, string>,
  args: LoadArgs = {},
  opts: Partial<ConvertOptions> = {},
) {
  return convertProject(await load(project(files), args), { ...OPTIONS, ...opts });
}

function find(objects: Manifest[], kind: string, name: string): Record<string, unknown> {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!object)
    throw new Error(`no ${kind} ${name} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return object;
}

const spec = (objects: Manifest[], kind: string, name: string) =>
  find(objects, kind, name).spec as Record<string, unknown>;

describe('loading, as the Compose Specification defines it', () => {
  it('interpolates ${VAR}, ${VAR:-default}, $$ and .env, the caller’s variables winning over .env', async () => {
    const { objects } = await convert(
      {
        'compose.yaml':
          'services:\n  web:\n    image: "app:${TAG:-latest}"\n    environment:\n      GREETING: "${GREETING}"\n      LITERAL: "$${HOME}"\n      FROM_DOTENV: "${REGION}"\n',
        '.env': 'REGION=eu\nGREETING=from-dotenv\n',
      },
      { environment: { GREETING: 'hello' } },
    );
    const web = spec(objects, 'DockerContainer', 'shop-web');
    expect(web.image).toBe('app:latest');
    expect(web.env).toEqual([
      { name: 'FROM_DOTENV', value: 'eu' },
      { name: 'GREETING', value: 'hello' },
      { name: 'LITERAL', value: '${HOME}' },
    ]);
  });

  it('refuses ${VAR:?message} when VAR is unset, with Compose’s message', async () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: "${IMAGE:?set IMAGE to the image}"\n',
    });
    await expect(load(dir)).rejects.toThrow(ComposeLoadError);
    await expect(load(dir)).rejects.toThrow(/set IMAGE to the image/);
    expect((await load(dir, { environment: { IMAGE: 'x:1' } })).project.services?.web?.image).toBe('x:1');
  });

  it('merges several files in order, extends another file’s service and includes a project', async () => {
    const { objects } = await convert(
      {
        'compose.yaml':
          'include:\n  - path: lib/cache.yaml\nservices:\n  web:\n    extends: { file: base.yaml, service: base }\n    image: web:1\n    ports: ["18080:80"]\n',
        'override.yaml': 'services:\n  web:\n    image: web:2\n    environment: [MODE=prod]\n',
        'base.yaml': 'services:\n  base:\n    restart: always\n    environment: [BASE=1]\n',
        'lib/cache.yaml': 'services:\n  cache:\n    image: cache:7\n',
      },
      { configFiles: ['compose.yaml', 'override.yaml'] },
    );
    const web = spec(objects, 'DockerContainer', 'shop-web');
    expect(web.image).toBe('web:2');
    expect(web.restartPolicy).toEqual({ name: 'always' });
    expect(web.env).toEqual([
      { name: 'BASE', value: '1' },
      { name: 'MODE', value: 'prod' },
    ]);
    expect(spec(objects, 'DockerContainer', 'shop-cache').image).toBe('cache:7');
  });

  it('leaves out services of profiles not enabled', async () => {
    const files = {
      'compose.yaml':
        'services:\n  web:\n    image: web\n  debug:\n    image: tools\n    profiles: [debug]\n',
    };
    const names = (objects: Manifest[]) => objects.map((o) => o.metadata.name);
    expect(names((await convert(files)).objects)).toEqual(['shop-default', 'shop-web']);
    expect(names((await convert(files, { profiles: ['debug'] })).objects)).toContain('shop-debug');
  });

  it('reads only the folder it is given: a file outside it cannot be included or read', async () => {
    const dir = project({
      'compose.yaml': 'services:\n  web:\n    image: web\n    env_file: /etc/passwd\n',
    });
    await expect(load(dir)).rejects.toThrow(/passwd/);
    const escape = project({
      'compose.yaml': 'include: [../p1/compose.yaml]\nservices:\n  web:\n    image: web\n',
    });
    await expect(load(escape)).rejects.toThrow(ComposeLoadError);
  });
});

describe('mapping services', () => {
  it('maps short and long syntaxes of ports, volumes, depends_on and healthcheck', async () => {
    const { objects } = await convert({
      'compose.yaml': `
services:
  db:
    image: db
    healthcheck: { test: "nc -z 127.0.0.1 5432", interval: 2s, retries: 5 }
    volumes: [ "data:/var/lib/db", { type: tmpfs, target: /run, tmpfs: { size: 1048576, mode: 0o1777 } } ]
  migrate:
    image: app
    command: migrate --up
    depends_on: { db: { condition: service_healthy } }
    restart: "no"
  web:
    image: app
    depends_on:
      migrate: { condition: service_completed_successfully }
      db: { condition: service_started }
    ports: [ "127.0.0.1:18080:8080", { target: 53, published: "18053", protocol: udp } ]
    volumes: [ "/srv/static:/www:ro" ]
    healthcheck: { test: [CMD, /bin/check, --fast], start_period: 5s }
volumes:
  data: {}
`,
    });
    const db = spec(objects, 'DockerContainer', 'shop-db');
    expect(db.healthcheck).toEqual({ shell: 'nc -z 127.0.0.1 5432', interval: '2s', retries: 5 });
    expect(db.mounts).toEqual([
      { type: 'volume', target: '/var/lib/db', volume: 'shop-data' },
      { type: 'tmpfs', target: '/run', tmpfsSize: '1048576', tmpfsMode: '1777' },
    ]);
    const migrate = spec(objects, 'DockerContainer', 'shop-migrate');
    expect(migrate.args).toEqual(['migrate', '--up']);
    expect(migrate.dependsOn).toEqual([{ name: 'shop-db', condition: 'Ready' }]);
    expect(migrate.restartPolicy).toEqual({ name: 'no' });
    const web = spec(objects, 'DockerContainer', 'shop-web');
    expect(web.dependsOn).toEqual([
      { name: 'shop-db', condition: 'Started' },
      { name: 'shop-migrate', condition: 'Completed' },
    ]);
    expect(web.ports).toEqual([
      { containerPort: 8080, hostPort: 18080, hostIP: '127.0.0.1', protocol: 'TCP' },
      { containerPort: 53, hostPort: 18053, protocol: 'UDP' },
    ]);
    expect(web.mounts).toEqual([{ type: 'bind', target: '/www', hostPath: '/srv/static', readOnly: true }]);
    expect(web.healthcheck).toEqual({ command: ['/bin/check', '--fast'], startPeriod: '5s' });
    expect(web.hostName).toBe('edge-1');
  });

  it('keeps each service’s Compose name as a network alias, beside its own aliases', async () => {
    const { objects } = await convert({
      'compose.yaml':
        'services:\n  api:\n    image: api\n    networks:\n      back: { aliases: [api.internal], ipv4_address: 10.200.0.10 }\n      front: {}\n  worker:\n    image: w\nnetworks:\n  back: { internal: true, ipam: { config: [{ subnet: 10.200.0.0/24 }] } }\n  front: {}\n',
    });
    expect(spec(objects, 'DockerContainer', 'shop-api').networks).toEqual([
      { name: 'shop-back', aliases: ['api', 'api.internal'], ipv4Address: '10.200.0.10' },
      { name: 'shop-front', aliases: ['api'] },
    ]);
    expect(spec(objects, 'DockerContainer', 'shop-worker').networks).toEqual([
      { name: 'shop-default', aliases: ['worker'] },
    ]);
    expect(spec(objects, 'DockerNetwork', 'shop-back')).toEqual({
      hostName: 'edge-1',
      internal: true,
      ipam: { config: [{ subnet: '10.200.0.0/24' }] },
    });
  });

  it('turns network_mode service:NAME into the sidecar pattern', async () => {
    const { objects } = await convert({
      'compose.yaml':
        'services:\n  vpn:\n    image: vpn\n  app:\n    image: app\n    network_mode: service:vpn\n',
    });
    expect(spec(objects, 'DockerContainer', 'shop-app').security).toEqual({
      networkMode: 'container',
      networkContainer: 'shop-vpn',
    });
  });

  it('gives a service without restart or deploy.restart_policy Compose’s default: no restart', async () => {
    const { objects } = await convert({
      'compose.yaml':
        'services:\n  plain:\n    image: app\n  swarm:\n    image: app\n    deploy: { restart_policy: { condition: any } }\n  own:\n    image: app\n    restart: always\n',
    });
    expect(spec(objects, 'DockerContainer', 'shop-plain').restartPolicy).toEqual({ name: 'no' });
    expect(spec(objects, 'DockerContainer', 'shop-swarm').restartPolicy).toEqual({ name: 'always' });
    expect(spec(objects, 'DockerContainer', 'shop-own').restartPolicy).toEqual({ name: 'always' });
  });

  it('accepts the tmpfs options the Engine applies to every tmpfs anyway (rw, noexec, nosuid, nodev)', async () => {
    const conversion = await convert(
      {
        'compose.yaml':
          'services:\n  db:\n    image: db\n    tmpfs:\n      - /tmp:rw,noexec,nosuid,size=32m\n      - /run:exec\n',
      },
      {},
      { allowUnsupported: true },
    );
    expect(spec(conversion.objects, 'DockerContainer', 'shop-db').mounts).toEqual([
      { type: 'tmpfs', target: '/tmp', tmpfsSize: '32Mi' },
      { type: 'tmpfs', target: '/run' },
    ]);
    expect(conversion.warnings.map((w) => w.path)).toEqual(['services.db.tmpfs[/run:exec].exec']);
  });

  it('maps ulimits whose zero values the loader leaves out (`core: 0` loads as {})', async () => {
    const { objects } = await convert({
      'compose.yaml':
        'services:\n  job:\n    image: job\n    ulimits:\n      core: 0\n      nproc: 512\n      nofile: { soft: 0, hard: 2048 }\n      stack: { soft: 1024, hard: 2048 }\n',
    });
    expect(spec(objects, 'DockerContainer', 'shop-job').ulimits).toEqual([
      { name: 'core', soft: 0, hard: 0 },
      { name: 'nofile', soft: 0, hard: 2048 },
      { name: 'nproc', soft: 512, hard: 512 },
      { name: 'stack', soft: 1024, hard: 2048 },
    ]);
  });

  it('maps resources from the plain keys and deploy.resources', async () => {
    const { objects } = await convert({
      'compose.yaml':
        'services:\n  app:\n    image: app\n    mem_reservation: 32m\n    shm_size: 64m\n    deploy:\n      resources:\n        limits: { cpus: "1.5", memory: 128M, pids: 64 }\n',
    });
    expect(spec(objects, 'DockerContainer', 'shop-app').resources).toEqual({
      memoryReservation: String(32 * 1024 * 1024),
      shmSize: String(64 * 1024 * 1024),
      memory: String(128 * 1024 * 1024),
      cpus: '1500m',
      pidsLimit: 64,
    });
  });
});

describe('configs and secrets', () => {
  it('puts file, inline and variable sources into ConfigMaps and Secrets, mounted where Compose puts them', async () => {
    const { objects } = await convert(
      {
        'compose.yaml': `
services:
  proxy:
    image: proxy
    configs: [ site, { source: inline, target: /etc/inline.conf, mode: 0o440, uid: "101" } ]
    secrets: [ token ]
configs:
  site: { file: ./conf/site.conf }
  inline: { content: "listen $\${PORT}" }
secrets:
  token: { environment: API_TOKEN }
`,
        'conf/site.conf': 'server { }\n',
      },
      { environment: { API_TOKEN: 's3cret' } },
    );
    expect(find(objects, 'ConfigMap', 'shop-site').data).toEqual({ content: 'server { }\n' });
    expect(find(objects, 'ConfigMap', 'shop-inline').data).toEqual({ content: 'listen ${PORT}' });
    expect(find(objects, 'Secret', 'shop-token').data).toEqual({
      content: Buffer.from('s3cret').toString('base64'),
    });
    expect(spec(objects, 'DockerContainer', 'shop-proxy').files).toEqual([
      { path: '/site', configMapKeyRef: { name: 'shop-site', key: 'content' }, mode: '0444' },
      {
        path: '/etc/inline.conf',
        configMapKeyRef: { name: 'shop-inline', key: 'content' },
        mode: '0440',
        uid: 101,
      },
      { path: '/run/secrets/token', secretKeyRef: { name: 'shop-token', key: 'content' }, mode: '0444' },
    ]);
  });
});

describe('nothing is dropped silently', () => {
  const unsupported = {
    'compose.yaml':
      'services:\n  web:\n    build: .\n    image: web\n    cpu_shares: 512\n    volumes: ["./html:/usr/share/html"]\n    ports: ["8080"]\n',
  };

  it('fails naming every unsupported key and its service', async () => {
    const err = await convert(unsupported).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComposeConversionError);
    expect((err as ComposeConversionError).findings.map((f) => f.path)).toEqual([
      'services.web.build',
      'services.web.cpu_shares',
      'services.web.ports[0].published',
      'services.web.volumes[0].source',
    ]);
    expect((err as Error).message).toMatch(
      /services\.web\.build: Dockyard runs images and does not build them/,
    );
  });

  it('with allowUnsupported, converts the rest and lists the keys in the output', async () => {
    const conversion = await convert(unsupported, {}, { allowUnsupported: true });
    expect(conversion.warnings).toHaveLength(4);
    const text = renderConversion(conversion);
    expect(text).toMatch(/^# Converted without these unsupported Compose keys/m);
    expect(text).toMatch(/^# {3}services\.web\.cpu_shares: Dockyard has no equivalent$/m);
    const web = spec(conversion.objects, 'DockerContainer', 'shop-web');
    expect(web.image).toBe('web');
    expect(web.mounts).toBeUndefined();
  });

  it('refuses two Compose names that make the same Kubernetes name', async () => {
    await expect(
      convert({ 'compose.yaml': 'services:\n  my_app:\n    image: a\n  my-app:\n    image: b\n' }),
    ).rejects.toThrow(/services\.my-app and services\.my_app both become shop-my-app/);
  });

  it('needs a host selector for replicas, which become a DockerService', async () => {
    const files = { 'compose.yaml': 'services:\n  web:\n    image: web\n    deploy: { replicas: 3 }\n' };
    await expect(convert(files)).rejects.toThrow(
      /services\.web\.deploy\.replicas: 3 replicas need a DockerService/,
    );
    const { objects } = await convert(
      files,
      {},
      { placement: { hostSelector: { matchLabels: { site: 'lab' } } } },
    );
    expect(find(objects, 'DockerService', 'shop-web').spec).toEqual({
      hostSelector: { matchLabels: { site: 'lab' } },
      replicas: 3,
      template: {
        spec: {
          image: 'web',
          networks: [{ name: 'shop-default', aliases: ['web'] }],
          restartPolicy: { name: 'no' },
        },
      },
    });
  });
});

describe('output', () => {
  it('is the same bytes for the same input, and valid YAML documents', async () => {
    const files = {
      'compose.yaml':
        'services:\n  b:\n    image: b\n    environment: { Z: "1", A: "2" }\n  a:\n    image: a\n    labels: { y: "1", x: "2" }\nvolumes:\n  v2: {}\n  v1: {}\n',
    };
    const first = renderConversion(await convert(files));
    expect(renderConversion(await convert(files))).toBe(first);
    const docs = parseAllDocuments(first).map((d) => d.toJSON() as Manifest);
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'DockerNetwork/shop-default',
      'DockerVolume/shop-v1',
      'DockerVolume/shop-v2',
      'DockerContainer/shop-a',
      'DockerContainer/shop-b',
    ]);
    expect(parse(first.split('---\n')[1] ?? '')).toMatchObject({ metadata: { namespace: 'team' } });
  });
});
