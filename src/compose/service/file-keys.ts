// configs and secrets: files written into the container before it starts.
// Their content lives in a ConfigMap or Secret (top-level.ts), so a change is
// an ordinary edit of that object and the container is recreated with it.

import type { ContainerTemplateSpec } from '../../crds/dockerservice.js';
import type { ComposeFileReference } from '../project-types.js';
import { refuseOtherKeys, type ServiceContext, type ServiceDraft, type ServiceKey } from './context.js';

type ContainerFile = NonNullable<ContainerTemplateSpec['files']>[number];

/** The key every Dockyard-made ConfigMap and Secret holds its content under. */
export const CONTENT_KEY = 'content';

type Section = 'configs' | 'secrets';

/** Compose's default targets: /<name> for a config, /run/secrets/<name> for a secret; relative ones likewise. */
function targetPath(section: Section, ref: ComposeFileReference): string {
  const target = ref.target ?? ref.source;
  if (target.startsWith('/')) return target;
  return section === 'configs' ? `/${target}` : `/run/secrets/${target}`;
}

/** The loader writes modes as octal strings ("0440"); docker compose's default is 0444. */
function fileMode(mode: unknown): string {
  if (typeof mode === 'number') return mode.toString(8).padStart(4, '0');
  return typeof mode === 'string' ? mode.padStart(4, '0') : '0444';
}

function fileReferences(section: Section): ServiceKey {
  return {
    map: (value: unknown, draft: ServiceDraft, ctx: ServiceContext, path: string) => {
      const refs = Array.isArray(value) ? (value as ComposeFileReference[]) : [];
      const files: ContainerFile[] = [];
      refs.forEach((ref, i) => {
        refuseOtherKeys(ref, ['source', 'target', 'uid', 'gid', 'mode'], ctx, `${path}[${i}]`);
        const name = ctx.names[section].get(ref.source);
        if (!name) return;
        const keyRef = { name, key: CONTENT_KEY };
        files.push({
          path: targetPath(section, ref),
          ...(section === 'configs' ? { configMapKeyRef: keyRef } : { secretKeyRef: keyRef }),
          mode: fileMode(ref.mode),
          ...(ref.uid !== undefined ? { uid: Number(ref.uid) } : {}),
          ...(ref.gid !== undefined ? { gid: Number(ref.gid) } : {}),
        });
      });
      draft.spec.files = [...(draft.spec.files ?? []), ...files];
    },
  };
}

export const FILE_KEYS: Record<string, ServiceKey> = {
  configs: fileReferences('configs'),
  secrets: fileReferences('secrets'),
};
