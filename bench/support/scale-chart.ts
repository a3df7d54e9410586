// scale.svg: the scaling curve, seconds from the first create until all
// Ready per fleet size, with both floors and the 1.5 × max(floors) goal, in
// the same hand-drawn style as convergence.svg (bench/support/svg.ts).

import type { ScenarioResult } from './report.js';
import { renderLineChart } from './svg.js';

interface CurvePoint {
  hosts: number;
  dockyardSeconds: number;
  dockerFloorSeconds: number;
  apiFloorSeconds: number;
}

export function scaleChart(result: ScenarioResult, goalRatio: number): string {
  const curve = (result.data.curve ?? []) as CurvePoint[];
  const line = (f: (p: CurvePoint) => number) => curve.map((p) => [p.hosts, f(p)] as const);
  return renderLineChart({
    title: result.title,
    xLabel: 'hollow Docker hosts (10 containers each)',
    yLabel: 'seconds, first create → all Ready (median of rounds)',
    series: [
      {
        name: 'Dockyard apply → all Ready',
        color: '#1f77b4',
        straight: true,
        points: line((p) => p.dockyardSeconds),
      },
      {
        name: 'Docker floor (direct dockerode)',
        color: '#ff7f0e',
        straight: true,
        dashed: true,
        points: line((p) => p.dockerFloorSeconds),
      },
      {
        name: 'API floor (creates, no controller)',
        color: '#2ca02c',
        straight: true,
        dashed: true,
        points: line((p) => p.apiFloorSeconds),
      },
      {
        name: `goal: ${goalRatio} × max(floors)`,
        color: '#999999',
        straight: true,
        dotted: true,
        points: line((p) => goalRatio * Math.max(p.dockerFloorSeconds, p.apiFloorSeconds)),
      },
    ],
  });
}
