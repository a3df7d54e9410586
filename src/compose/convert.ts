// A loaded Compose project → Dockyard manifests, as `dockyard compose
// convert` prints them and the DockerComposeStack controller applies them.
// Pure: the same project and options give the same objects in the same order.

import { API_VERSION } from '../crds/kit.js';
import { ComposeConversionError, Findings, type Finding } from './findings.js';
import { objectName, sectionNames } from './naming.js';
import type { LoadedCompose } from './project-loader.js';
import type { ComposeProject } from './project-types.js';
import type { ProjectNames } from './service/context.js';
import { mapService } from './service/map-service.js';
import { fileObjectData, networkSpec, volumeSpec, type Placement } from './top-level.js';

export const PROJECT_LABEL = 'compose.dockyard.io/project';
export const SERVICE_LABEL = 'compose.dockyard.io/service';

export interface ConvertOptions {
  namespace: string;
  /** Where every object goes: one host (hostName) or every host a selector matches. */
  placement: Placement;
  /** The project directory as the loader saw it (bind sources under it are project files). */
  projectDir: string;
  /** Convert what can be converted and return the rest as warnings, instead of failing. */
  allowUnsupported?: boolean;
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  [field: string]: unknown;
}

export interface Conversion {
  objects: Manifest[];
  /** Unsupported keys left out (only with allowUnsupported). */
  warnings: Finding[];
}

type Sections = 'services' | 'networks' | 'volumes' | 'configs' | 'secrets';

function keysOf(project: ComposeProject, section: Sections): string[] {
  return Object.keys(project[section] ?? {}).sort();
}

/** External configs and secrets name an existing ConfigMap or Secret; the rest are `<project>-<key>`. */
function fileObjectNames(project: ComposeProject, section: 'configs' | 'secrets'): Map<string, string> {
  const own = sectionNames(
    project.name,
    section,
    keysOf(project, section).filter((k) => !project[section]?.[k]?.external),
  );
  for (const key of keysOf(project, section)) {
    const obj = project[section]?.[key];
    if (obj?.external) own.set(key, obj.name ?? key);
  }
  return own;
}

function projectNames(project: ComposeProject): ProjectNames {
  return {
    services: sectionNames(project.name, 'services', keysOf(project, 'services')),
    networks: sectionNames(project.name, 'networks', keysOf(project, 'networks')),
    volumes: sectionNames(project.name, 'volumes', keysOf(project, 'volumes')),
    configs: fileObjectNames(project, 'configs'),
    secrets: fileObjectNames(project, 'secrets'),
  };
}

export function convertProject(loaded: LoadedCompose, opts: ConvertOptions): Conversion {
  const { project } = loaded;
  const findings = new Findings();
  const names = projectNames(project);
  const meta = (name: string, extra: Record<string, string> = {}) => ({
    name,
    namespace: opts.namespace,
    labels: { [PROJECT_LABEL]: project.name, ...extra },
  });
  const section = { project, findings, placement: opts.placement, sources: loaded.sources };
  const objects: Manifest[] = [
    ...fileObjects({ project, names, meta, section }),
    ...keysOf(project, 'networks').map((key) => ({
      apiVersion: API_VERSION,
      kind: 'DockerNetwork',
      metadata: meta(names.networks.get(key) as string),
      spec: networkSpec(key, project.networks?.[key] ?? {}, section),
    })),
    ...keysOf(project, 'volumes').map((key) => ({
      apiVersion: API_VERSION,
      kind: 'DockerVolume',
      metadata: meta(names.volumes.get(key) as string),
      spec: volumeSpec(key, project.volumes?.[key] ?? {}, section),
    })),
    ...serviceObjects({ project, names, findings, opts, meta }),
  ];
  const warnings = findings.sorted();
  if (warnings.length > 0 && !opts.allowUnsupported) throw new ComposeConversionError(warnings);
  return { objects, warnings };
}

type Meta = (name: string, extra?: Record<string, string>) => Manifest['metadata'];

function fileObjects(args: {
  project: ComposeProject;
  names: ProjectNames;
  meta: Meta;
  section: Parameters<typeof fileObjectData>[3];
}): Manifest[] {
  const out: Manifest[] = [];
  for (const kind of ['configs', 'secrets'] as const) {
    for (const key of keysOf(args.project, kind)) {
      const content = fileObjectData(kind, key, args.project[kind]?.[key] ?? {}, args.section);
      if (!content) continue;
      const metadata = args.meta(args.names[kind].get(key) as string);
      if (kind === 'secrets')
        out.push({ apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque', data: content.data });
      else
        out.push({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata,
          [content.binary ? 'binaryData' : 'data']: content.data,
        });
    }
  }
  return out;
}

function serviceObjects(args: {
  project: ComposeProject;
  names: ProjectNames;
  findings: Findings;
  opts: ConvertOptions;
  meta: Meta;
}): Manifest[] {
  const { project, names, findings, opts } = args;
  const out: Manifest[] = [];
  for (const serviceName of keysOf(project, 'services')) {
    const service = project.services?.[serviceName] ?? {};
    const draft = mapService({ project, names, findings, serviceName, service, projectDir: opts.projectDir });
    const metadata = args.meta(names.services.get(serviceName) as string, { [SERVICE_LABEL]: serviceName });
    if (draft.replicas === 1) {
      out.push({
        apiVersion: API_VERSION,
        kind: 'DockerContainer',
        metadata,
        spec: { ...opts.placement, ...draft.spec },
      });
    } else if (opts.placement.hostSelector) {
      const spec = {
        hostSelector: opts.placement.hostSelector,
        replicas: draft.replicas,
        template: { spec: draft.spec },
      };
      out.push({ apiVersion: API_VERSION, kind: 'DockerService', metadata, spec });
    } else {
      findings.unsupported(
        `services.${serviceName}.deploy.replicas`,
        `${draft.replicas} replicas need a DockerService, which places by host selector: convert with --host-selector`,
      );
    }
  }
  return out;
}

export { objectName };
