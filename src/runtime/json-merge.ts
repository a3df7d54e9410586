// JSON value comparison and RFC 7386 merge-patch construction, with JSON's
// view of objects: key order is irrelevant and undefined-valued keys are absent.

type Json = unknown;

function isPlainObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function definedKeys(o: Record<string, Json>): string[] {
  return Object.keys(o).filter((k) => o[k] !== undefined);
}

/** Deep equality of JSON-like values, ignoring key order and undefined-valued keys. */
export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : false;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = definedKeys(a);
    const kb = definedKeys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return Number.isNaN(a) && Number.isNaN(b);
}

/**
 * The merge patch that turns `from` into `to`: changed keys with their new
 * values, removed keys as null, nested objects diffed, arrays replaced whole.
 */
export function createMergePatch(from: Json, to: Json): Json {
  if (!isPlainObject(from) || !isPlainObject(to)) return to === undefined ? null : to;
  const patch: Record<string, Json> = {};
  for (const k of definedKeys(from)) {
    if (to[k] === undefined || to[k] === null) patch[k] = null;
  }
  for (const k of definedKeys(to)) {
    const next = to[k];
    if (next === null) continue;
    const prev = from[k];
    if (jsonEqual(prev, next)) continue;
    patch[k] = isPlainObject(prev) && isPlainObject(next) ? createMergePatch(prev, next) : next;
  }
  return patch;
}
