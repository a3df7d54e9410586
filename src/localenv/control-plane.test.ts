import { describe, expect, it } from 'vitest';
import { portWasTaken } from './control-plane.js';

// A control-plane start is tried again on fresh ports only when its port was
// taken between freePort() and the bind; any other failure is reported as is.
describe('portWasTaken', () => {
  it.each([
    [
      'kube-apiserver lost its port',
      new Error(
        'kube-apiserver exited with code 1 before it was ready\n--- last lines of kube-apiserver.log ---\n' +
          'E1203 run.go:72] "command failed" err="failed to create listener: failed to listen on 127.0.0.1:34409: ' +
          'listen tcp 127.0.0.1:34409: bind: address already in use"',
      ),
      true,
    ],
    [
      'etcd lost its port',
      new Error(
        'etcd exited with code 1 before it was ready\n... listen tcp 127.0.0.1:2379: bind: address already in use',
      ),
      true,
    ],
    ['a readiness timeout', new Error('timed out after 90000 ms waiting for kube-apiserver /readyz'), false],
    ['not an Error', 'address already in use', false],
  ])('%s', (_name, err, taken) => {
    expect(portWasTaken(err)).toBe(taken);
  });
});
