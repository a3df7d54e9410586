// The DockerComposeStack sync handler. It reads top to bottom, as
// sample-controller's syncHandler does:
//   1. the stack and its project folder (inline, or its ConfigMap);
//   2. the project loaded as docker compose loads it, and converted as
//      `dockyard compose convert` converts it (cached per project hash);
//   3. the children written: created, applied where changed, deleted where
//      the project no longer has them;
//   4. status from the children's own conditions, and a requeue so a
//      changed ConfigMap is picked up.
// It never talks to Docker: the resources it owns do.
import type { CoreV1Api, KubernetesObject } from '@kubernetes/client-node';
import { convertProject, type Conversion } from '../../compose/convert.js';
import { ComposeConversionError, formatFinding } from '../../compose/findings.js';
import { ComposeLoadError } from '../../compose/project-loader.js';
import type { DockerComposeStack } from '../../crds/dockercomposestack.js';
import { GROUP, VERSION } from '../../crds/kit.js';
import { EventReason, Reason } from '../../crds/reasons.js';
import { isNotFound } from '../../runtime/api-errors.js';
import type { ReconcileContext, Reconciler, ReconcileResult, Request } from '../../runtime/controller.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { Informer } from '../../runtime/informer.js';
import { patchStatus, type StatusPatchApi } from '../../runtime/status-patch.js';
import { childKey, coreRefs, desiredChildren, planChildren, type Child, type CoreRef } from './children.js';
import { ChildWriter, type ObjectsApi, type WriteOutcome } from './child-writer.js';
import {
  configMapFiles,
  inlineFiles,
  loadStackProject,
  PROJECT_DIR,
  projectHash,
  type ProjectFiles,
} from './project-files.js';
import { stackStatus, type OwnedResource, type StackProblem } from './stack-status.js';

export const STACKS = { group: GROUP, version: VERSION, plural: 'dockercomposestacks' } as const;
/** A ConfigMap the stack reads is not watched: it is read again this often. */
export const RESYNC_MS = 30_000;

export interface StackReconcilerDeps {
  stacks: Pick<Informer<DockerComposeStack>, 'get'>;
  /** The Dockyard resources (DockerNetwork, DockerVolume, DockerContainer, DockerService) a stack controls. */
  ownedResources: (stack: DockerComposeStack) => OwnedResource[];
  /** Those of these ConfigMaps and Secrets that exist and the stack controls (read by name). */
  ownedCoreObjects: (stack: DockerComposeStack, refs: CoreRef[]) => Promise<KubernetesObject[]>;
  core: Pick<CoreV1Api, 'readNamespacedConfigMap'>;
  objects: ObjectsApi;
  status: StatusPatchApi;
  events: EventRecorder;
  fieldManager: string;
  now?: () => Date;
}

type Converted = { conversion: Conversion; hash: string; projectName: string } | { problem: StackProblem };

export class StackReconciler implements Reconciler {
  /** The last conversion per stack: loading runs only when the project folder or options change. */
  private readonly conversions = new Map<string, { hash: string; converted: Converted }>();
  private readonly writer: ChildWriter;

  constructor(private readonly deps: StackReconcilerDeps) {
    this.writer = new ChildWriter(deps.objects, deps.fieldManager);
  }

  async reconcile(ctx: ReconcileContext, req: Request): Promise<ReconcileResult> {
    const key = `${req.namespace}/${req.name}`;
    const stack = this.deps.stacks.get(key);
    // A deleted stack's resources go with it (ownerReference garbage collection);
    // DockerVolumes keep their data unless their deletionPolicy says Delete.
    if (!stack || stack.metadata.deletionTimestamp) {
      this.conversions.delete(key);
      return {};
    }
    const files = await this.projectFiles(stack);
    const converted = 'problem' in files ? files : await this.convert(stack, files.files);
    let problem = 'problem' in converted ? converted.problem : undefined;
    const desired = 'conversion' in converted ? desiredChildren(stack, converted.conversion.objects) : [];
    let core = await this.deps.ownedCoreObjects(stack, coreRefs(desired, stack.status?.inventory ?? []));
    if ('conversion' in converted) {
      const outcome = await this.writeChildren(stack, desired, core);
      ctx.logger.debug(
        { created: outcome.created.length, updated: outcome.updated.length },
        'stack children',
      );
      if (outcome.conflicts.length > 0) problem = conflictProblem(outcome);
      core = reconcileCore(core, outcome);
    }
    await this.writeStatus(stack, { converted, problem, core });
    return { requeueAfterMs: RESYNC_MS };
  }

  /** Step 1: the project folder. */
  private async projectFiles(
    stack: DockerComposeStack,
  ): Promise<{ files: ProjectFiles } | { problem: StackProblem }> {
    const { compose, configMapRef } = stack.spec.project;
    if (compose !== undefined) return { files: inlineFiles(compose) };
    const name = configMapRef?.name ?? '';
    try {
      const configMap = await this.deps.core.readNamespacedConfigMap({
        name,
        namespace: stack.metadata.namespace ?? '',
      });
      return { files: configMapFiles(configMap, configMapRef?.items) };
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const message = `ConfigMap ${name} (spec.project.configMapRef) does not exist; the stack's resources are kept as they are`;
      this.deps.events.event(stack, 'Warning', Reason.ConfigMapNotFound, 'Load', message);
      return { problem: { reason: Reason.ConfigMapNotFound, message } };
    }
  }

  /** Step 2: load and convert, or the last result for the same project. */
  private async convert(stack: DockerComposeStack, files: ProjectFiles): Promise<Converted> {
    const key = `${stack.metadata.namespace}/${stack.metadata.name}`;
    const hash = projectHash(stack, files);
    const cached = this.conversions.get(key);
    const options = JSON.stringify([
      stack.spec.hostName,
      stack.spec.hostSelector,
      stack.spec.allowUnsupported,
      stack.metadata.uid,
    ]);
    if (cached?.hash === hash + options) return cached.converted;
    const converted = await this.loadAndConvert(stack, files, hash);
    if ('problem' in converted)
      this.deps.events.event(stack, 'Warning', converted.problem.reason, 'Load', converted.problem.message);
    this.conversions.set(key, { hash: hash + options, converted });
    return converted;
  }

  private async loadAndConvert(
    stack: DockerComposeStack,
    files: ProjectFiles,
    hash: string,
  ): Promise<Converted> {
    try {
      const loaded = await loadStackProject(stack, files);
      const placement = stack.spec.hostName
        ? { hostName: stack.spec.hostName }
        : { hostSelector: stack.spec.hostSelector ?? {} };
      const conversion = convertProject(loaded, {
        namespace: stack.metadata.namespace ?? '',
        placement,
        projectDir: PROJECT_DIR,
        allowUnsupported: stack.spec.allowUnsupported === true,
      });
      return { conversion, hash, projectName: loaded.project.name };
    } catch (err) {
      if (err instanceof ComposeConversionError) {
        return { problem: { reason: Reason.UnsupportedComposeKeys, message: err.message } };
      }
      // The loader's own message, or a name that does not fold into a Kubernetes name.
      if (err instanceof ComposeLoadError || err instanceof Error) {
        return { problem: { reason: Reason.InvalidCompose, message: err.message } };
      }
      throw err;
    }
  }

  /** Step 3: bring the children to the conversion. */
  private async writeChildren(
    stack: DockerComposeStack,
    desired: Child[],
    core: KubernetesObject[],
  ): Promise<WriteOutcome> {
    const owned = [...this.deps.ownedResources(stack), ...core];
    const outcome = await this.writer.write({
      actions: planChildren(desired, owned),
      existing: new Map(
        owned.map((o) => [childKey({ kind: o.kind, metadata: { name: o.metadata?.name } }), o]),
      ),
      stackUid: stack.metadata.uid ?? '',
    });
    const note = (reason: EventReason, list: KubernetesObject[]) => {
      for (const child of list)
        this.deps.events.event(stack, 'Normal', reason, 'Apply', `${child.kind} ${child.metadata?.name}`);
    };
    note(EventReason.Created, outcome.created);
    note(EventReason.Updated, outcome.updated);
    note(EventReason.Deleted, outcome.deleted);
    return outcome;
  }

  /** Step 4. */
  private async writeStatus(
    stack: DockerComposeStack,
    found: { converted: Converted; problem: StackProblem | undefined; core: KubernetesObject[] },
  ): Promise<void> {
    const resources = this.deps.ownedResources(stack);
    const inventory = [...found.core, ...resources].map((o) => ({
      kind: o.kind ?? '',
      name: o.metadata?.name ?? '',
    }));
    const ok = 'conversion' in found.converted ? found.converted : undefined;
    const status = stackStatus({
      stack,
      ...(found.problem ? { problem: found.problem } : {}),
      ...(ok ? { projectName: ok.projectName, projectHash: ok.hash } : {}),
      resources,
      inventory,
      unsupportedKeys: ok ? ok.conversion.warnings.map(formatFinding) : [],
      now: this.deps.now?.() ?? new Date(),
    });
    try {
      await patchStatus(this.deps.status, {
        ref: { ...STACKS, namespace: stack.metadata.namespace ?? '', name: stack.metadata.name },
        current: stack.status,
        desired: status,
        fieldManager: this.deps.fieldManager,
        resourceVersion: stack.metadata.resourceVersion,
      });
    } catch (err) {
      // Deleted while this reconcile ran: its delete event brings the next one.
      if (!isNotFound(err)) throw err;
    }
  }
}

/** The ConfigMaps and Secrets the stack owns after the writes (the caches show the Dockyard kinds). */
function reconcileCore(before: KubernetesObject[], outcome: WriteOutcome): KubernetesObject[] {
  const deleted = new Set(outcome.deleted.map(childKey));
  const kept = before.filter((o) => !deleted.has(childKey(o)));
  return [...kept, ...outcome.created.filter((c) => c.kind === 'ConfigMap' || c.kind === 'Secret')];
}

function conflictProblem(outcome: WriteOutcome): StackProblem {
  const names = outcome.conflicts.map((c) => `${c.kind} ${c.metadata.name}`).join(', ');
  return {
    reason: Reason.ResourceConflict,
    message: `${names} already exist${outcome.conflicts.length === 1 ? 's' : ''} and ${outcome.conflicts.length === 1 ? 'is' : 'are'} not this stack's: rename the service or remove the other resource (nothing of it was changed)`,
  };
}
