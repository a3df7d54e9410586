// Live heap of the controller after a full garbage collection, through the
// V8 inspector (the controller runs with --inspect on loopback for the
// memory scenario only). RSS and heap-in-use include the garbage and slack
// of whatever the process just did; this is what the objects really keep.

interface InspectorTarget {
  webSocketDebuggerUrl?: string;
}

interface InspectorReply {
  id?: number;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** Sends CDP commands in order over one connection; returns each result. */
async function inspectorCommands(port: number, methods: string[]): Promise<Array<Record<string, unknown>>> {
  const targets = (await (
    await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(5_000) })
  ).json()) as InspectorTarget[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on 127.0.0.1:${port}`);
  const ws = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true });
    });
    const results: Array<Record<string, unknown>> = [];
    for (const [i, method] of methods.entries()) {
      const id = i + 1;
      const reply = await new Promise<InspectorReply>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`inspector ${method} timed out`)), 60_000);
        const onMessage = (event: MessageEvent) => {
          const msg = JSON.parse(String(event.data)) as InspectorReply;
          if (msg.id !== id) return;
          clearTimeout(timer);
          ws.removeEventListener('message', onMessage);
          resolve(msg);
        };
        ws.addEventListener('message', onMessage);
        ws.send(JSON.stringify({ id, method }));
      });
      if (reply.error) throw new Error(`inspector ${method}: ${reply.error.message}`);
      results.push(reply.result ?? {});
    }
    return results;
  } finally {
    ws.close();
  }
}

/** Forces a full GC in the controller, then returns V8's used heap in bytes. */
export async function liveHeapBytes(inspectPort: number): Promise<number> {
  const [, usage] = await inspectorCommands(inspectPort, [
    'HeapProfiler.collectGarbage',
    'Runtime.getHeapUsage',
  ]);
  const used = Number(usage?.usedSize);
  if (!Number.isFinite(used)) throw new Error('Runtime.getHeapUsage returned no usedSize');
  return used;
}
