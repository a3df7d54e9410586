// What a Compose file asks for that Dockyard cannot do. Nothing is dropped
// silently: each finding names the key (`services.web.build`) and why; the
// conversion fails with all of them, or, when the caller allows unsupported
// keys, lists them as warnings in its output (and the stack's status).

export interface Finding {
  /** The Compose key, dotted from the top: services.web.build, networks.front.driver_opts. */
  path: string;
  /** Why Dockyard has no equivalent, and what to do instead where there is something. */
  reason: string;
}

export class Findings {
  readonly list: Finding[] = [];

  unsupported(path: string, reason: string): void {
    this.list.push({ path, reason });
  }

  /** Sorted, so the output and the stack's status are the same bytes for the same input. */
  sorted(): Finding[] {
    return [...this.list].sort((a, b) => a.path.localeCompare(b.path) || a.reason.localeCompare(b.reason));
  }
}

/** The conversion refused unsupported keys (and `allowUnsupported` was not set). */
export class ComposeConversionError extends Error {
  override name = 'ComposeConversionError';

  constructor(readonly findings: Finding[]) {
    super(
      `${findings.length} Compose key${findings.length === 1 ? ' has' : 's have'} no Dockyard equivalent ` +
        `(allowUnsupported / --allow-unsupported converts the rest and lists them):\n` +
        findings.map((f) => `  ${f.path}: ${f.reason}`).join('\n'),
    );
  }
}

export function formatFinding(finding: Finding): string {
  return `${finding.path}: ${finding.reason}`;
}
