import { describe, expect, it } from 'vitest';
import { DOCKYARD_LABELS } from '../../../agent/desired-state.js';
import { OWNER_LABELS } from '../../../crds/kit.js';

// The agent may not import src/crds, so it keeps its own copy of the owner
// labels it recognises Dockyard's containers by: this keeps the two in step.
describe("the agent's copy of the owner labels", () => {
  it('is OWNER_LABELS', () => {
    expect(DOCKYARD_LABELS).toEqual(OWNER_LABELS);
  });
});
