import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  controllerOptionsProblem,
  parseControllerArgs,
  type ControllerCommandOptions,
} from './controller-options.js';

const terminal = { stdoutIsTTY: true, podNamespace: undefined };
const pod = { stdoutIsTTY: false, podNamespace: 'dockyard' };

const defaults: ControllerCommandOptions = {
  kubeconfig: undefined,
  metricsBindAddress: ':8080',
  healthProbeBindAddress: ':8081',
  leaderElect: false,
  leaderElectionNamespace: 'dockyard-system',
  leaderElectionId: 'dockyard-controller',
  maxConcurrentReconciles: 128,
  maxConcurrentReconcilesPerHost: 4,
  shards: 1,
  logLevel: 'info',
  logFormat: 'pretty',
  watchNamespace: undefined,
  syncPeriodMs: 600_000,
  dockerEvents: true,
  clusterId: undefined,
  agentEndpoint: undefined,
};

describe('parseControllerArgs', () => {
  it('serves agents only with --agent-bind-address, advertising it and naming its host by default', () => {
    expect(parseControllerArgs(['--agent-bind-address', '10.0.0.5:9443'], pod).agentEndpoint).toMatchObject({
      bind: { host: '10.0.0.5', port: 9443 },
      advertise: '10.0.0.5:9443',
      serverNames: ['10.0.0.5'],
      namespace: 'dockyard',
      certValiditySeconds: 86_400,
      tokenTtlMs: 3_600_000,
    });
  });

  it('takes the advertised address and server names a Service puts in front', () => {
    const parsed = parseControllerArgs(
      [
        '--agent-bind-address=:9443',
        '--agent-advertise-address=agents.example.com:443',
        '--agent-server-name=agents.example.com,dockyard-agent.dockyard.svc',
        '--agent-certificate-validity=2h',
      ],
      pod,
    );
    expect(parsed.agentEndpoint).toMatchObject({
      bind: { host: '0.0.0.0', port: 9443 },
      advertise: 'agents.example.com:443',
      serverNames: ['agents.example.com', 'dockyard-agent.dockyard.svc'],
      certValiditySeconds: 7200,
    });
  });

  it('refuses to guess what agents dial when the endpoint listens on every interface', () => {
    expect(() => parseControllerArgs(['--agent-bind-address=:9443'], pod)).toThrow(
      /--agent-advertise-address is required/,
    );
  });

  it('defaults like controller-runtime, pretty logs on a terminal', () => {
    expect(parseControllerArgs([], terminal)).toEqual(defaults);
  });

  it('in a pod: the pod namespace for the lease and JSON logs', () => {
    expect(parseControllerArgs([], pod)).toMatchObject({
      leaderElectionNamespace: 'dockyard',
      logFormat: 'json',
    });
  });

  it.each<[string, string[], Partial<ControllerCommandOptions>]>([
    ['kubeconfig', ['--kubeconfig', '/k/config'], { kubeconfig: '/k/config' }],
    [
      'bind addresses in Go form',
      ['--metrics-bind-address=127.0.0.1:0', '--health-probe-bind-address', '0'],
      { metricsBindAddress: '127.0.0.1:0', healthProbeBindAddress: '0' },
    ],
    ['--leader-elect alone', ['--leader-elect'], { leaderElect: true }],
    ['--leader-elect=true', ['--leader-elect=true'], { leaderElect: true }],
    ['--leader-elect=false', ['--leader-elect=false'], { leaderElect: false }],
    [
      'lease location',
      ['--leader-election-namespace', 'ops', '--leader-election-id', 'dockyard.example.com'],
      { leaderElectionNamespace: 'ops', leaderElectionId: 'dockyard.example.com' },
    ],
    ['workers', ['--max-concurrent-reconciles', '16'], { maxConcurrentReconciles: 16 }],
    ['workers per host', ['--max-concurrent-reconciles-per-host=2'], { maxConcurrentReconcilesPerHost: 2 }],
    ['log settings', ['--log-level=debug', '--log-format=json'], { logLevel: 'debug', logFormat: 'json' }],
    ['watch namespace', ['--watch-namespace', 'team-a'], { watchNamespace: 'team-a' }],
    ['sync period', ['--sync-period', '1h30m'], { syncPeriodMs: 5_400_000 }],
    ['poll-only Docker', ['--docker-events=false'], { dockerEvents: false }],
    ['--docker-events alone', ['--docker-events'], { dockerEvents: true }],
    ['cluster id', ['--cluster-id', 'prod-eu.1'], { clusterId: 'prod-eu.1' }],
    [
      'a UID as cluster id',
      ['--cluster-id=0b9f3a34-63a5-4f43-9a8e-3e2f1c1b2a10'],
      { clusterId: '0b9f3a34-63a5-4f43-9a8e-3e2f1c1b2a10' },
    ],
  ])('reads %s', (_what, args, expected) => {
    expect(parseControllerArgs(args, terminal)).toEqual({ ...defaults, ...expected });
  });

  it.each<[string, string[], RegExp]>([
    ['an unknown flag', ['--leader-elect-id', 'x'], /unknown option/],
    ['a positional argument', ['extra'], /too many arguments|excess/i],
    ['zero workers', ['--max-concurrent-reconciles', '0'], /at least 1/],
    ['fractional workers', ['--max-concurrent-reconciles', '2.5'], /whole number/],
    ['zero workers per host', ['--max-concurrent-reconciles-per-host', '0'], /at least 1/],
    ['a duration without unit', ['--sync-period', '30'], /duration/],
    ['a zero duration', ['--sync-period', '0'], /above zero/],
    ['a bad bind address', ['--metrics-bind-address', '8080'], /bind address/],
    ['a bad boolean', ['--leader-elect=yes'], /true or false/],
    ['a bad --docker-events', ['--docker-events=off'], /true or false/],
    ['an unknown log level', ['--log-level', 'verbose'], /Allowed choices/],
    ['an unknown log format', ['--log-format', 'text'], /Allowed choices/],
    ['an invalid namespace', ['--watch-namespace', 'Team_A'], /namespace name/],
    ['an invalid lease name', ['--leader-election-id', 'Dockyard Lease'], /object name/],
    ['an empty cluster id', ['--cluster-id='], /cluster-id must be/],
    ['a cluster id with spaces', ['--cluster-id', 'my cluster'], /cluster-id must be/],
    ['a too long cluster id', ['--cluster-id', 'x'.repeat(64)], /cluster-id must be/],
  ])('refuses %s', (_what, args, message) => {
    let error: unknown;
    try {
      parseControllerArgs(args, terminal);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CommanderError);
    expect((error as CommanderError).exitCode).toBe(1);
    expect((error as CommanderError).message).toMatch(message);
  });

  it('takes --shards, which needs leader election, with or without an agent endpoint', () => {
    const sharded = parseControllerArgs(['--shards', '3', '--leader-elect'], pod);
    expect(sharded.shards).toBe(3);
    expect(controllerOptionsProblem(sharded)).toBeUndefined();
    expect(controllerOptionsProblem(parseControllerArgs(['--shards=3'], pod))).toMatch(
      /--shards above 1 needs --leader-elect/,
    );
    expect(
      controllerOptionsProblem(
        parseControllerArgs(['--shards=2', '--leader-elect', '--agent-bind-address', '10.0.0.5:9443'], pod),
      ),
    ).toBeUndefined();
    expect(controllerOptionsProblem(parseControllerArgs([], pod))).toBeUndefined();
    expect(() => parseControllerArgs(['--shards', '0'], pod)).toThrow(CommanderError);
  });
});
