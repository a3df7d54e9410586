import { inject } from 'vitest';

// Every integration test file talks to the host daemon the global setup chose,
// and testcontainers must neither pull nor start its reaper (no registry here;
// the local environment removes what it starts).
process.env.DOCKER_HOST = inject('dockerHost');
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
