// The product's bounded-concurrency map (src/managed/map-limit.ts), for the
// bench's own fan-out, and a sleep.
export { mapLimit } from '../../src/managed/map-limit.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
