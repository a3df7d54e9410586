import { Counter, Histogram, type Registry } from 'prom-client';

/** `admitted` or the refusal's reason (a small fixed set). */
export type AdmissionResultLabel = string;

export interface ImagePolicyMetrics {
  /** One admission decided by `rule` ('' when no rule matched or the host has no policy). */
  decided(rule: string, result: AdmissionResultLabel): void;
  /** One signature verification run (cache misses only). */
  verified(result: 'valid' | 'invalid', seconds: number): void;
}

export function createImagePolicyMetrics(registry: Registry): ImagePolicyMetrics {
  const registers = [registry];
  const decisions = new Counter({
    name: 'dockyard_image_policy_decisions_total',
    help: 'Image admissions by a DockerHost imagePolicy, by rule and result (admitted or the refusal reason)',
    labelNames: ['rule', 'result'] as const,
    registers,
  });
  const verifications = new Histogram({
    name: 'dockyard_image_signature_verification_seconds',
    help: 'Image signature verifications actually run (cache misses): registry reads and cryptography, by result',
    labelNames: ['result'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  return {
    decided: (rule, result) => decisions.inc({ rule, result }),
    verified: (result, seconds) => verifications.observe({ result }, seconds),
  };
}

export const noopImagePolicyMetrics: ImagePolicyMetrics = { decided: () => {}, verified: () => {} };
