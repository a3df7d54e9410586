// What a BuildKit build through the Engine API says, as text. The daemon
// streams JSON lines; BuildKit's progress comes as `moby.buildkit.trace`
// messages whose `aux` is a base64 protobuf StatusResponse (vertices, i.e.
// steps, and the output of their processes). Dockyard decodes the part it
// shows itself: dockerode's decoder hands process output on still
// base64-encoded, past any redaction of the text. Only the fields read here
// are declared (protobuf skips the rest).
import protobuf from 'protobufjs';

const descriptor = {
  nested: {
    Timestamp: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
    Vertex: {
      fields: {
        digest: { type: 'string', id: 1 },
        name: { type: 'string', id: 3 },
        cached: { type: 'bool', id: 4 },
        started: { type: 'Timestamp', id: 5 },
        completed: { type: 'Timestamp', id: 6 },
        error: { type: 'string', id: 7 },
      },
    },
    VertexLog: { fields: { vertex: { type: 'string', id: 1 }, msg: { type: 'bytes', id: 4 } } },
    VertexWarning: { fields: { vertex: { type: 'string', id: 1 }, short: { type: 'bytes', id: 3 } } },
    StatusResponse: {
      fields: {
        vertexes: { rule: 'repeated', type: 'Vertex', id: 1 },
        logs: { rule: 'repeated', type: 'VertexLog', id: 3 },
        warnings: { rule: 'repeated', type: 'VertexWarning', id: 4 },
      },
    },
  },
};
const StatusResponse = protobuf.Root.fromJSON(descriptor).lookupType('StatusResponse');

interface TraceStatus {
  vertexes?: Array<{ digest?: string; name?: string; cached?: boolean; started?: unknown; error?: string }>;
  logs?: Array<{ msg?: Uint8Array }>;
  warnings?: Array<{ short?: Uint8Array }>;
}

/** What one line of the build stream adds. */
export interface TraceStep {
  text: string;
  error?: string;
  imageId?: string;
}

const utf8 = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : '');

/**
 * Reads a build's output stream line by line. Each step (vertex) is named
 * once, when it starts (or is found cached); process output and warnings
 * follow as they come; a step's error is an error of the build.
 */
export class BuildTrace {
  private readonly named = new Set<string>();
  /** Errors already shown: the stream's closing error repeats the failed step's. */
  private readonly shown = new Set<string>();

  line(line: string): TraceStep {
    let json: {
      id?: string;
      aux?: unknown;
      stream?: string;
      error?: string;
      errorDetail?: { message?: string };
    };
    try {
      json = JSON.parse(line) as typeof json;
    } catch {
      return { text: line.trim() ? `${line}\n` : '' };
    }
    const error = json.errorDetail?.message ?? json.error;
    if (json.id === 'moby.buildkit.trace' && typeof json.aux === 'string') return this.status(json.aux);
    if (json.id === 'moby.image.id' && typeof json.aux === 'object' && json.aux !== null) {
      const id = (json.aux as { ID?: unknown }).ID;
      return typeof id === 'string' ? { text: '', imageId: id } : { text: '' };
    }
    const repeated = error !== undefined && this.shown.has(error);
    return {
      text: `${json.stream ?? ''}${error && !repeated ? `ERROR: ${error}\n` : ''}`,
      ...(error ? { error } : {}),
    };
  }

  private status(aux: string): TraceStep {
    const decoded = StatusResponse.toObject(StatusResponse.decode(Buffer.from(aux, 'base64'))) as TraceStatus;
    let text = '';
    let error: string | undefined;
    for (const v of decoded.vertexes ?? []) {
      const key = v.digest ?? '';
      if ((v.started !== undefined || v.cached) && !this.named.has(key)) {
        this.named.add(key);
        text += `${v.cached ? 'CACHED ' : ''}${v.name ?? ''}\n`;
      }
      if (v.error) {
        error ??= v.error;
        this.shown.add(v.error);
        text += `ERROR: ${v.error}\n`;
      }
    }
    for (const log of decoded.logs ?? []) text += utf8(log.msg);
    for (const w of decoded.warnings ?? []) text += `WARNING: ${utf8(w.short)}\n`;
    return { text, ...(error ? { error } : {}) };
  }
}
