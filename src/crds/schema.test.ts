import { Value } from 'typebox/value';
import type { TSchema } from 'typebox';
import { describe, expect, it } from 'vitest';
import { DockerBuildSpec } from './dockerbuild.js';
import { DockerComposeStackSpec } from './dockercomposestack.js';
import { DockerContainerSpec } from './dockercontainer.js';
import { DockerHostSpec } from './dockerhost.js';
import { DockerImageSpec } from './dockerimage.js';
import { DockerNetworkSpec } from './dockernetwork.js';
import { DockerServiceSpec } from './dockerservice.js';
import { DockerVolumeSpec } from './dockervolume.js';
import { IMAGE_REFERENCE_PATTERN } from './kit.js';
import { SCHEMA_CASES, type KindName } from './schema-cases.fixture.js';

const specs: Record<KindName, TSchema> = {
  DockerHost: DockerHostSpec,
  DockerImage: DockerImageSpec,
  DockerNetwork: DockerNetworkSpec,
  DockerVolume: DockerVolumeSpec,
  DockerContainer: DockerContainerSpec,
  DockerService: DockerServiceSpec,
  DockerComposeStack: DockerComposeStackSpec,
  DockerBuild: DockerBuildSpec,
};

// Structural rules only: CEL cases pass the structural schema and are caught
// by the API server (test/integration/schema.test.ts runs the same table there).
describe('spec schemas (structural part)', () => {
  it('has at least 30 cases across all eight kinds', () => {
    expect(SCHEMA_CASES.length).toBeGreaterThanOrEqual(30);
    expect(new Set(SCHEMA_CASES.map((c) => c.kind)).size).toBe(8);
  });
  it.each(SCHEMA_CASES.map((c) => [`${c.kind}: ${c.name}`, c] as const))('%s', (_name, c) => {
    // A case about the object's name has a valid spec: the CRD's metadata schema is the API server's to apply.
    const structurallyValid = c.valid || c.cel === true || c.objectName !== undefined;
    const errors = [...Value.Errors(specs[c.kind], c.spec)];
    expect(errors.length === 0, JSON.stringify(errors.slice(0, 2))).toBe(structurallyValid);
  });
});

describe('image reference pattern', () => {
  const re = new RegExp(IMAGE_REFERENCE_PATTERN);
  it.each([
    ['busybox', true],
    ['busybox:1.36', true],
    ['library/busybox:latest', true],
    ['127.0.0.1:5000/dockyard/busybox:1.36-alt', true],
    ['ghcr.io/org/app@sha256:' + 'f'.repeat(64), true],
    ['registry.example.com/a/b/c:tag@sha256:' + '0'.repeat(64), true],
    ['library/UPPER', false],
    ['busybox:', false],
    ['busybox@sha256:short', false],
    ['-leading/dash', false],
    ['', false],
  ])('%s → %s', (ref, ok) => {
    expect(re.test(ref)).toBe(ok);
  });
});
