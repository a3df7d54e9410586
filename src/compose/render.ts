// Manifests as one YAML stream, for kubectl apply, kustomize or a GitOps repo.
// Keys keep the order the conversion built them in, so the same input gives
// the same bytes.

import { stringify } from 'yaml';
import type { Conversion } from './convert.js';
import { formatFinding } from './findings.js';

export function renderConversion(conversion: Conversion, header: readonly string[] = []): string {
  const comments = [
    ...header.map((line) => `# ${line}`),
    ...(conversion.warnings.length > 0
      ? ['# Converted without these unsupported Compose keys (--allow-unsupported):']
      : []),
    ...conversion.warnings.map((w) => `#   ${formatFinding(w)}`),
  ];
  const documents = conversion.objects.map((object) =>
    stringify(object, { lineWidth: 0, aliasDuplicateObjects: false }),
  );
  // Each document ends in a newline already: `---` starts the next one directly.
  const preamble = comments.length > 0 ? `${comments.join('\n')}\n` : '';
  return preamble + documents.map((d) => `---\n${d}`).join('');
}
