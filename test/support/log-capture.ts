// Captures a process's log lines as parsed objects, through the runtime's own
// logger factory (same redaction and serializers as production).

import type { Logger } from 'pino';
import { createLogger } from '../../src/runtime/logging.js';

export interface LogLine {
  level: number;
  time: number;
  msg?: string;
  [key: string]: unknown;
}

/** pino's numeric levels. */
export const LEVEL = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

export function captureLogs(level = 'debug'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({
    level,
    pretty: false,
    destination: { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) },
  });
  return { logger, lines };
}

/** One line per entry, for failure messages. */
export function formatLines(lines: readonly LogLine[]): string {
  return lines
    .map(
      (l) =>
        `${l.level} ${l.msg ?? ''} ${JSON.stringify({ ...l, level: undefined, time: undefined, msg: undefined })}`,
    )
    .join('\n');
}
