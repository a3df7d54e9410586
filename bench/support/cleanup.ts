// Everything the benchmark starts registers how to stop it here, so a
// failure or Ctrl-C still removes the controller, the nodes and the control
// plane (in reverse order of start).

export type Log = (message: string) => void;

export class Cleanup {
  private readonly steps: Array<{ name: string; run: () => Promise<void> }> = [];
  private running: Promise<void> | undefined;

  constructor(private readonly log: Log) {}

  /** Adds a step; returns a function that removes it again (when its owner stopped it already). */
  add(name: string, run: () => Promise<void>): () => void {
    const step = { name, run };
    this.steps.push(step);
    return () => {
      const i = this.steps.indexOf(step);
      if (i >= 0) this.steps.splice(i, 1);
    };
  }

  /** Runs every step, newest first; a failing step is logged and the rest still run. */
  runAll(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) {
        const step = this.steps.pop();
        if (!step) break;
        try {
          await step.run();
        } catch (err) {
          this.log(`cleanup step ${step.name} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    })();
    return this.running;
  }
}
