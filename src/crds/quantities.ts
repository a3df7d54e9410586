// Kubernetes-style quantities and Go-style durations, as the DockerContainer
// spec writes them, turned into the integers the Docker Engine API takes.
// Exact decimal arithmetic (BigInt) so `1.5Gi` or `0.1s` never picks up
// floating-point noise.

/** A quantity or duration that cannot be translated. */
export class QuantityError extends Error {
  override readonly name = 'QuantityError';
}

const BYTE_UNITS: Record<string, bigint> = {
  '': 1n,
  k: 1000n,
  M: 1000n ** 2n,
  G: 1000n ** 3n,
  T: 1000n ** 4n,
  P: 1000n ** 5n,
  E: 1000n ** 6n,
  Ki: 1024n,
  Mi: 1024n ** 2n,
  Gi: 1024n ** 3n,
  Ti: 1024n ** 4n,
  Pi: 1024n ** 5n,
  Ei: 1024n ** 6n,
};

const BYTE_PATTERN = /^([0-9]+)(?:\.([0-9]+))?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

/** `digits.fraction` as a fraction n / 10^scale, exactly. */
function decimal(whole: string, fraction = ''): { n: bigint; scale: bigint } {
  return { n: BigInt(whole + fraction), scale: 10n ** BigInt(fraction.length) };
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

function toSafeNumber(value: bigint, input: string, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new QuantityError(`${what} ${JSON.stringify(input)} is too large`);
  }
  return Number(value);
}

/**
 * Bytes from a Kubernetes quantity: `256Mi`, `1Gi`, `500M`, `1.5Gi`, `100k`,
 * `1048576`. Fractions round up to a whole byte, as Kubernetes does.
 */
export function parseByteQuantity(input: string): number {
  const m = BYTE_PATTERN.exec(input.trim());
  if (!m) {
    throw new QuantityError(
      `invalid byte quantity ${JSON.stringify(input)}: expected a number with an optional suffix ` +
        '(Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, E), e.g. 256Mi or 1.5Gi',
    );
  }
  const { n, scale } = decimal(m[1] ?? '0', m[2]);
  const unit = BYTE_UNITS[m[3] ?? ''] ?? 1n;
  return toSafeNumber(ceilDiv(n * unit, scale), input, 'byte quantity');
}

const CPU_PATTERN = /^(?:([0-9]+)m|([0-9]+)(?:\.([0-9]+))?)$/;
const NANO_PER_CPU = 1_000_000_000n;

/**
 * Docker NanoCpus from a Kubernetes CPU quantity: `500m` → 5e8, `1` → 1e9,
 * `1.5` → 1.5e9. `0` is 0 (Docker's "no limit"). Precision finer than a
 * nano-CPU is refused rather than rounded.
 */
export function parseCpuQuantity(input: string): number {
  const m = CPU_PATTERN.exec(input.trim());
  if (!m) {
    throw new QuantityError(
      `invalid CPU quantity ${JSON.stringify(input)}: expected millicores (500m) or a decimal number of CPUs (1, 1.5)`,
    );
  }
  if (m[1] !== undefined) return toSafeNumber(BigInt(m[1]) * 1_000_000n, input, 'CPU quantity');
  const { n, scale } = decimal(m[2] ?? '0', m[3]);
  const nanos = n * NANO_PER_CPU;
  if (nanos % scale !== 0n) {
    throw new QuantityError(`invalid CPU quantity ${JSON.stringify(input)}: finer than one nano-CPU`);
  }
  return toSafeNumber(nanos / scale, input, 'CPU quantity');
}

const DURATION_UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const DURATION_PART = /([0-9]+)(?:\.([0-9]+))?(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Nanoseconds from a Go-style duration: `30s`, `1m30s`, `250ms`, `1.5h`.
 * Docker's healthcheck durations are in nanoseconds. A fractional nanosecond
 * is refused; `0s` is 0.
 */
export function parseDuration(input: string): number {
  const text = input.trim();
  const invalid = () =>
    new QuantityError(
      `invalid duration ${JSON.stringify(input)}: expected numbers with units (ns, us, ms, s, m, h), e.g. 30s or 1m30s`,
    );
  if (text === '') throw invalid();
  let total = 0n;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < text.length) {
    const m = DURATION_PART.exec(text);
    if (!m) throw invalid();
    const { n, scale } = decimal(m[1] ?? '0', m[2]);
    const unit = DURATION_UNITS[m[3] ?? ''] ?? 1n;
    const ns = n * unit;
    if (ns % scale !== 0n)
      throw new QuantityError(`invalid duration ${JSON.stringify(input)}: finer than 1ns`);
    total += ns / scale;
  }
  return toSafeNumber(total, input, 'duration');
}

/**
 * Whole seconds from a Go-style duration, rounded up (`1500ms` → 2), for
 * Docker's StopTimeout and the stop endpoint's `t`: rounding up never gives
 * a container less grace than asked for.
 */
export function parseDurationSeconds(input: string): number {
  return Number(ceilDiv(BigInt(parseDuration(input)), 1_000_000_000n));
}
