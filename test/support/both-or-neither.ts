/**
 * Both started, or neither: when one start fails, the other is stopped
 * before the error goes on. With Promise.all a control plane whose lab
 * failed to start was never assigned, so nothing stopped it (CI found its
 * etcd still running after the run).
 */
export async function bothOrNeither<A extends { stop(): Promise<void> }, B extends { stop(): Promise<void> }>(
  a: Promise<A>,
  b: Promise<B>,
): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'fulfilled' && rb.status === 'fulfilled') return [ra.value, rb.value];
  await Promise.all([ra, rb].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
  throw [ra, rb].find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
}
