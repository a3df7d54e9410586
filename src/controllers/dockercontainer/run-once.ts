import type { DockerContainer, DockerContainerSpec } from '../../crds/dockercontainer.js';
import { REDACTED } from '../../runtime/logging.js';
import type { RefReader } from './env-resolver.js';

// Run-to-completion containers (migrations, seed jobs): what status says
// about a finished run, and the explicit act that runs one again.
//
//   exit (restart policy no / on-failure) | phase     | status
//   --------------------------------------+-----------+------------------------------------
//   0                                     | Completed | Ready=True, finishedAt
//   non-zero                              | Failed    | Stalled, exitCode, finishedAt, lastLogLines
//
// Neither is started again by Dockyard, also not after a controller restart
// (the phase follows from Docker's state and the restart policy, not from
// memory), until the dockyard.io/rerun annotation takes a value not honoured
// yet, or a spec change recreates the container.

/** Set to any new value to run a finished (Completed or Failed) container again, once. */
export const RERUN_ANNOTATION = 'dockyard.io/rerun';

/** Bounds of status.hosts[].lastLogLines. */
export const LOG_TAIL_LINES = 20;
export const LOG_TAIL_BYTES = 2048;

/** Secret values shorter than this are not redacted line by line (only as whole values). */
const MIN_LINE_TO_REDACT = 4;

export function rerunRequestOf(obj: DockerContainer): string | undefined {
  return obj.metadata.annotations?.[RERUN_ANNOTATION];
}

/** A rerun value that was not honoured (or seen) yet: `seen` is the machine context's `rerun`. */
export function rerunRequested(value: string | undefined, seen: string | undefined): boolean {
  return value !== undefined && value !== seen;
}

/**
 * The context with `rerun` set to the annotation's value, so the same value
 * never reruns twice (a value already there when the container was created,
 * or while it still ran, counts as honoured by that run).
 */
export function withRerun<C extends { rerun?: string }>(context: C, value: string | undefined): C {
  const { rerun: _previous, ...rest } = context;
  return (value !== undefined ? { ...rest, rerun: value } : rest) as C;
}

/**
 * The names of the Secrets the spec reads, wherever it reads them
 * (`env[].valueFrom.secretKeyRef`, `envFrom[].secretRef`, and any other
 * `secretKeyRef` / `secretRef` / `secret` reference a later field adds).
 */
export function secretNamesOf(spec: DockerContainerSpec): string[] {
  const names = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    for (const [k, child] of Object.entries(v)) {
      const name = (child as { name?: unknown } | null)?.name;
      if (/^secret(KeyRef|Ref)?$/.test(k) && typeof name === 'string') names.add(name);
      walk(child);
    }
  };
  walk(spec);
  return [...names];
}

/** Every value of every Secret the spec reads (a superset of what reached the container). */
export async function secretValuesOf(spec: DockerContainerSpec, reader: RefReader): Promise<string[]> {
  const values: string[] = [];
  for (const name of secretNamesOf(spec)) values.push(...Object.values((await reader.secret(name)) ?? {}));
  return values;
}

/**
 * The last lines of a container's output for status: secret values replaced
 * first (whole values, and each line of a multi-line one such as a key), then
 * bounded to LOG_TAIL_LINES lines and LOG_TAIL_BYTES bytes, keeping the end.
 */
export function boundedLogTail(output: string, secrets: readonly string[]): string {
  const pieces = new Set<string>();
  for (const s of secrets) {
    if (s.length > 0) pieces.add(s);
    for (const line of s.split(/\r?\n/)) if (line.trim().length >= MIN_LINE_TO_REDACT) pieces.add(line);
  }
  let text = output;
  // Longest first: a value that contains another is replaced whole.
  for (const p of [...pieces].sort((a, b) => b.length - a.length)) text = text.split(p).join(REDACTED);
  const lines = text.replace(/\n+$/, '').split('\n').slice(-LOG_TAIL_LINES);
  let tail = lines.join('\n');
  while (Buffer.byteLength(tail, 'utf8') > LOG_TAIL_BYTES && tail.includes('\n'))
    tail = tail.slice(tail.indexOf('\n') + 1);
  if (Buffer.byteLength(tail, 'utf8') <= LOG_TAIL_BYTES) return tail;
  // One line longer than the bound: its end, without a character the cut split.
  const bytes = Buffer.from(tail, 'utf8');
  return bytes
    .subarray(bytes.length - LOG_TAIL_BYTES)
    .toString('utf8')
    .replace(/^\uFFFD+/, '');
}

/**
 * Docker's log stream as text: a container without a TTY multiplexes stdout
 * and stderr in frames of an 8-byte header (stream, 0, 0, 0, size) and the
 * payload; one with a TTY sends raw bytes.
 */
export function demuxDockerLogs(buf: Buffer): string {
  const frames: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    const stream = buf[at];
    const framed = (stream === 0 || stream === 1 || stream === 2) && buf.readUIntBE(at + 1, 3) === 0;
    if (!framed) return buf.toString('utf8');
    const size = buf.readUInt32BE(at + 4);
    frames.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return at === buf.length ? Buffer.concat(frames).toString('utf8') : buf.toString('utf8');
}
