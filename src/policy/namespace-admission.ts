import type { DockerHostSpec } from '../crds/dockerhost.js';
import { Reason } from '../crds/reasons.js';
import { matchesSelector } from './label-selector.js';

export type Admission =
  { allowed: true } | { allowed: false; reason: typeof Reason.NamespaceNotAllowed; message: string };

/** May objects of namespace `namespace` (with these labels) be placed on a host with this spec? */
export function admitNamespace(
  hostName: string,
  host: Pick<DockerHostSpec, 'allowedNamespaces'>,
  namespace: string,
  namespaceLabels: Record<string, string> | undefined,
): Admission {
  const allowed = host.allowedNamespaces;
  if (!allowed || (allowed.from ?? 'All') === 'All') return { allowed: true };
  if (matchesSelector(allowed.selector, namespaceLabels ?? {})) return { allowed: true };
  return {
    allowed: false,
    reason: Reason.NamespaceNotAllowed,
    message: `namespace ${namespace} is not allowed on DockerHost ${hostName} (spec.allowedNamespaces.selector does not match its labels)`,
  };
}
