import { describe, expect, it } from 'vitest';
import { operationLabel } from './instrument.js';

describe('operationLabel', () => {
  it.each([
    ['GET', '/_ping', 'GET /_ping'],
    ['GET', '/info', 'GET /info'],
    ['GET', '/containers/json?', 'GET /containers/json'],
    ['POST', '/containers/create?', 'POST /containers/create'],
    ['GET', `/containers/${'a'.repeat(64)}/json?`, 'GET /containers/{id}/json'],
    ['POST', '/containers/team.web/start?', 'POST /containers/{id}/start'],
    ['DELETE', '/containers/abc?force=true', 'DELETE /containers/{id}'],
    ['GET', '/networks/dockyard.net', 'GET /networks/{id}'],
    ['POST', '/networks/abc/connect', 'POST /networks/{id}/connect'],
    ['DELETE', '/volumes/team.data', 'DELETE /volumes/{id}'],
    ['GET', '/images/127.0.0.1:5000/dockyard/busybox:1.36/json', 'GET /images/{id}/json'],
    ['DELETE', '/images/busybox:1.36?', 'DELETE /images/{id}'],
    ['POST', '/images/create?fromImage=busybox', 'POST /images/create'],
    ['GET', '/distribution/127.0.0.1:5000/dockyard/busybox:1.36/json', 'GET /distribution/{id}/json'],
    ['get', '/events?filters=x', 'GET /events'],
  ])('%s %s', (method, path, label) => {
    expect(operationLabel(method, path)).toBe(label);
  });
});
