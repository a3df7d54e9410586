// Everything a build needs from the Kubernetes API, read when a reconcile
// looks (never listed or watched): the context archive from its ConfigMap,
// the arguments' values, the secret mounts. The build hash is taken here: of
// the spec as written and of the context's bytes, so an edited ConfigMap
// rebuilds; values read from Secrets are not in it (a hash of a short secret
// can be guessed back), so a changed Secret alone does not rebuild.
import { createHash } from 'node:crypto';
import type { DockerBuild } from '../../crds/dockerbuild.js';
import { Reason } from '../../crds/reasons.js';
import { specHash } from '../../managed/ownership.js';
import { resolveEnv, type RefReader } from '../dockercontainer/env-resolver.js';
import { buildContext, ContextError } from './build-context.js';
import { lookUpRef, remoteContext } from './git-refs.js';

export type BuildInputFailure = typeof Reason.ConfigMapNotFound | typeof Reason.SecretNotFound;

export type BuildInputs =
  | {
      ok: true;
      hash: string;
      /** The context sent as the request body, or the git repository the daemon clones. */
      context: Buffer | undefined;
      remote: string | undefined;
      dockerfile: string;
      buildArgs: Record<string, string>;
      secrets: Map<string, Buffer>;
      /** Values read from Secrets: never shown. */
      redact: string[];
    }
  | { ok: false; reason: BuildInputFailure | typeof Reason.InvalidBuildContext; message: string };

type Failure = Extract<BuildInputs, { ok: false }>;

/** The context archive from its ConfigMap, or why there is none. */
async function contextArchive(build: DockerBuild, reader: RefReader): Promise<Buffer | Failure | undefined> {
  const ref = build.spec.context?.configMap;
  if (!ref) return undefined;
  // Methods of the reader (KubeRefReader's use `this`).
  const data = reader.configMapBytes
    ? await reader.configMapBytes(ref.name)
    : await reader.configMap(ref.name);
  if (data === undefined)
    return {
      ok: false,
      reason: Reason.ConfigMapNotFound,
      message: `spec.context: ConfigMap ${ref.name} not found`,
    };
  const value = data[ref.key];
  if (value === undefined)
    return {
      ok: false,
      reason: Reason.ConfigMapNotFound,
      message: `spec.context: key ${ref.key} not found in ConfigMap ${ref.name}`,
    };
  return Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
}

/** The secret mounts' bytes by id; a missing optional one is left out. */
async function secretMounts(build: DockerBuild, reader: RefReader): Promise<Map<string, Buffer> | Failure> {
  const out = new Map<string, Buffer>();
  for (const s of build.spec.secrets ?? []) {
    const ref = s.secretKeyRef;
    const data = reader.secretBytes
      ? await reader.secretBytes(ref.name)
      : await reader.secret(ref.name).then((d) => d && mapValues(d, (v) => Buffer.from(v)));
    const value = data?.[ref.key];
    if (value !== undefined) out.set(s.id, value);
    else if (!ref.optional)
      return {
        ok: false,
        reason: Reason.SecretNotFound,
        message: `spec.secrets ${s.id}: ${data ? `key ${ref.key} not found in ` : ''}Secret ${ref.name}${data ? '' : ' not found'}`,
      };
  }
  return out;
}

const mapValues = <A, B>(m: Record<string, A>, f: (a: A) => B): Record<string, B> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, f(v)]));

/** What a build's spec and context (archive bytes, or the commit a git ref names) hash to: what it rebuilds on. */
export function buildHash(build: DockerBuild, context: { archive?: Buffer; commit?: string }): string {
  // Placement and deletionPolicy say where and how long, not what is built.
  const { hostName: _h, hostSelector: _s, deletionPolicy: _d, ...spec } = build.spec;
  const contextDigest = context.archive
    ? createHash('sha256').update(context.archive).digest('hex')
    : undefined;
  return specHash({ spec, contextDigest, commit: context.commit });
}

/** A git context: the remote the daemon clones and the commit its ref names now (http(s) only). */
async function gitContext(
  build: DockerBuild,
): Promise<{ remote: string; commit: string | undefined } | Failure | undefined> {
  const git = build.spec.context?.git;
  if (!git) return undefined;
  const found = await lookUpRef(git);
  if ('error' in found)
    return { ok: false, reason: Reason.InvalidBuildContext, message: `spec.context.git: ${found.error}` };
  return { remote: remoteContext(git), commit: found.commit };
}

/** Reads the build's inputs; a failure names the field and object, never a value. */
export async function resolveBuildInputs(build: DockerBuild, reader: RefReader): Promise<BuildInputs> {
  const archive = await contextArchive(build, reader);
  if (archive !== undefined && !Buffer.isBuffer(archive)) return archive;
  const args = await resolveEnv({ env: build.spec.args ?? [] }, reader);
  if (!args.ok) {
    // Arguments read only Secrets and ConfigMaps (resolveEnv's other reasons are about files).
    const reason = args.reason === Reason.SecretNotFound ? Reason.SecretNotFound : Reason.ConfigMapNotFound;
    return { ok: false, reason, message: `spec.args: ${args.message.replace(/^env /, '')}` };
  }
  const secrets = await secretMounts(build, reader);
  if (!(secrets instanceof Map)) return secrets;
  const git = await gitContext(build);
  if (git && 'ok' in git) return git;
  let built: { context: Buffer | undefined; dockerfile: string };
  try {
    built = git
      ? { context: undefined, dockerfile: build.spec.dockerfile ?? 'Dockerfile' }
      : await buildContext({
          archive,
          dockerfileInline: build.spec.dockerfileInline,
          dockerfile: build.spec.dockerfile,
        });
  } catch (err) {
    if (!(err instanceof ContextError)) throw err;
    return { ok: false, reason: Reason.InvalidBuildContext, message: `spec.context: ${err.message}` };
  }
  const fromSecrets = new Set(
    (build.spec.args ?? []).filter((a) => a.valueFrom?.secretKeyRef).map((a) => a.name),
  );
  return {
    ok: true,
    hash: buildHash(build, {
      ...(archive ? { archive } : {}),
      ...(git?.commit ? { commit: git.commit } : {}),
    }),
    ...built,
    remote: git?.remote,
    buildArgs: Object.fromEntries(args.env.map((e) => [e.name, e.value])),
    secrets,
    redact: [
      ...args.env.filter((e) => fromSecrets.has(e.name)).map((e) => e.value),
      ...[...secrets.values()].map((b) => b.toString('utf8')),
    ],
  };
}
