import type { DockerContainerSpec } from '../crds/dockercontainer.js';
import { formatBytes, mapField, type Violation } from './policy-types.js';

/** One log file may grow to this much below privileged… */
export const MAX_LOG_FILE_BYTES = 100 * 1024 * 1024;
/** …and this many files are kept: at most 1 GiB of logs per container. */
export const MAX_LOG_FILES = 10;
/** Non-blocking mode buffers in the daemon's memory; Docker's default is 1 MiB. */
export const MAX_LOG_BUFFER_BYTES = 16 * 1024 * 1024;

/** Log drivers allowed below privileged: both write to the daemon's own disk, nothing leaves the host. */
export const LOG_DRIVERS: ReadonlySet<string> = new Set(['json-file', 'local']);

type OptionCheck = (value: string) => string | undefined;

const size =
  (max: number): OptionCheck =>
  (value) => {
    const bytes = parseDockerSize(value);
    if (bytes === undefined || bytes <= 0)
      return `${value} is not a size such as 10m (unlimited is not allowed)`;
    return bytes > max ? `${value} is above the cap of ${formatBytes(max)}` : undefined;
  };
const oneOf =
  (...allowed: string[]): OptionCheck =>
  (value) =>
    allowed.includes(value) ? undefined : `must be one of ${allowed.join(', ')}`;
const fileCount: OptionCheck = (value) =>
  /^[1-9][0-9]*$/.test(value) && Number(value) <= MAX_LOG_FILES
    ? undefined
    : `must be a whole number from 1 to ${MAX_LOG_FILES}`;
/** labels/env name which container labels and variables go into each log line: the container's own data. */
const names: OptionCheck = (value) =>
  /^[A-Za-z0-9_.,-]*$/.test(value) ? undefined : 'must be a comma-separated list of names';

const COMMON: Record<string, OptionCheck> = {
  'max-size': size(MAX_LOG_FILE_BYTES),
  'max-file': fileCount,
  compress: oneOf('true', 'false'),
  mode: oneOf('blocking', 'non-blocking'),
  'max-buffer-size': size(MAX_LOG_BUFFER_BYTES),
};

/** Options each allowed driver takes below privileged; anything else is refused. */
export const LOG_OPTIONS: Record<string, Record<string, OptionCheck>> = {
  'json-file': { ...COMMON, labels: names, env: names },
  local: COMMON,
};

/**
 * Bytes from a Docker size as the log drivers read it (go-units RAMInBytes:
 * binary multiples, `10m`, `1.5g`, `100MiB`, `512k`); undefined when it does
 * not parse, e.g. json-file's `-1` (unlimited).
 */
export function parseDockerSize(value: string): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(value);
  if (!m) return undefined;
  const power = m[2] ? 'kmgtp'.indexOf(m[2].toLowerCase()) + 1 : 0;
  return Math.floor(Number(m[1]) * 1024 ** power);
}

/** Below privileged: json-file or local, allow-listed options, sizes capped. */
export function checkLogging(logging: DockerContainerSpec['logging'], level: string): Violation[] {
  if (!logging) return [];
  const allowed = LOG_OPTIONS[logging.driver];
  if (!allowed || !LOG_DRIVERS.has(logging.driver)) {
    return [
      {
        field: 'spec.logging.driver',
        message: `log driver ${logging.driver} is not allowed under ${level} (only ${[...LOG_DRIVERS].join(', ')})`,
      },
    ];
  }
  const v: Violation[] = [];
  for (const [key, value] of Object.entries(logging.options ?? {})) {
    const field = mapField('spec.logging.options', key);
    const check = Object.hasOwn(allowed, key) ? allowed[key] : undefined;
    if (!check) {
      v.push({ field, message: `log option ${key} is not allowed with ${logging.driver} under ${level}` });
      continue;
    }
    const problem = check(value);
    if (problem) v.push({ field, message: `log option ${key}: ${problem}` });
  }
  return v;
}
