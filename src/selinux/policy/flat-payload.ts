/**
 * A payload format for the hook's projection entry (cache-entry.ts), read without node:v8: V8's
 * structured-clone reader (v8.deserialize) loads node:v8, whose module loads the stream stack, and then
 * rebuilds every typed array through a JS callback; for the hook's ~300 KB projection of Debian's policy
 * that was about a third of what its SELinux call added over its DAC call (bench/hook-callgrind.sh).
 *
 * Here the tree is JSON (parsed by V8's C++ JSON parser) and every typed array is raw bytes after it, which
 * the reader takes as views on the payload without copying when aligned. What it keeps is what the
 * structured clone keeps for the values a projection holds: plain objects and arrays (holes and undefined
 * included), strings, numbers (NaN, ±Infinity and -0 too), booleans, null, Maps, Sets, the integer and float
 * typed arrays, and shared references (an object met twice is one object after reading, as a symbol
 * table's byName map and byValue array share their entries). Anything else (a class instance, a function,
 * a bigint, a property named "__proto__") is refused when writing, never silently changed.
 *
 *   0   8  magic "VSLFLAT1"  (a structured clone starts with 0xFF: the two never meet)
 *   8   4  JSON length J
 *   12  4  data length D
 *   16  J  the tree, JSON, UTF-8; a value {"$": tag, ...} is one of the tags below
 *   ..     zero padding to a multiple of 8
 *   ..  D  the typed arrays' bytes, each at a multiple of 8 (host byte order, as the structured clone)
 * Reading checks every tag, offset and length and throws on anything else: the caller (cache-entry.ts)
 * makes that a miss. The payload's CRC is checked by the entry before this reads it.
 */

const MAGIC = Buffer.from('VSLFLAT1', 'latin1');
const HEAD = 16;

const TYPED = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array,
} as const;
type TypedName = keyof typeof TYPED;
type Typed = InstanceType<(typeof TYPED)[TypedName]>;

const align8 = (n: number) => (n + 7) & ~7;

/** Whether `payload` is in this format (else it is a structured clone). */
export function isFlatPayload(payload: Uint8Array): boolean {
  return payload.length >= HEAD && Buffer.from(payload.buffer, payload.byteOffset, MAGIC.length).equals(MAGIC);
}

function typedName(v: object): TypedName | undefined {
  if (!ArrayBuffer.isView(v) || v instanceof DataView) return undefined;
  const name = Object.getPrototypeOf(v)?.constructor?.name as string | undefined;
  return name !== undefined && Object.hasOwn(TYPED, name) && v instanceof TYPED[name as TypedName] ? (name as TypedName) : undefined;
}

/** The payload for `value`, in parts to be written one after the other; throws on a value it cannot keep exactly. */
export function encodeFlat(value: unknown): Uint8Array[] {
  const ids = new Map<object, number>();
  const blobs: Uint8Array[] = [];
  let dataLength = 0;
  const number = (n: number): unknown => (Number.isFinite(n) && !Object.is(n, -0) ? n : { $: 'n', v: Object.is(n, -0) ? '-0' : String(n) });
  const walk = (v: unknown): unknown => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        return number(v);
      case 'undefined':
        return { $: 'u' };
      case 'object':
        break;
      default:
        throw new Error(`flat payload: a ${typeof v} cannot be stored`);
    }
    if (v === null) return null;
    const seen = ids.get(v);
    if (seen !== undefined) return { $: 'r', i: seen };
    ids.set(v, ids.size);
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      for (let i = 0; i < v.length; i++) out.push(i in v ? walk(v[i]) : { $: 'h' });
      return out;
    }
    if (v instanceof Map) return { $: 'm', e: [...v].map(([k, x]) => [walk(k), walk(x)]) };
    if (v instanceof Set) return { $: 's', e: [...v].map(walk) };
    const typed = typedName(v);
    if (typed) {
      const t = v as Typed;
      const at = dataLength;
      const bytes = new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
      blobs.push(bytes);
      const padded = align8(bytes.length);
      if (padded > bytes.length) blobs.push(new Uint8Array(padded - bytes.length));
      dataLength += padded;
      return { $: 't', k: typed, o: at, n: t.length };
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new Error('flat payload: only plain objects, arrays, Maps, Sets and typed arrays can be stored');
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) {
      if (key === '__proto__') throw new Error('flat payload: a property named __proto__ cannot be stored');
      out[key] = walk((v as Record<string, unknown>)[key]);
    }
    // An object of our own with a "$" key would read as a tag: it goes inside one.
    return Object.hasOwn(out, '$') ? { $: 'o', v: out } : out;
  };
  const json = Buffer.from(JSON.stringify(walk(value)), 'utf8');
  const head = Buffer.alloc(align8(HEAD + json.length) - json.length);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(json.length, 8);
  head.writeUInt32LE(dataLength, 12);
  return [head.subarray(0, HEAD), json, head.subarray(HEAD), ...blobs];
}

function ownKeyCount(o: object): number {
  let n = 0;
  for (const key in o) if (Object.hasOwn(o, key)) n++;
  return n;
}

/** The value stored in a flat payload; throws when anything in it is not exactly as encodeFlat writes it. */
export function decodeFlat(payload: Uint8Array): unknown {
  if (!isFlatPayload(payload)) throw new Error('flat payload: no magic');
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const jsonLength = b.readUInt32LE(8);
  const dataLength = b.readUInt32LE(12);
  const dataAt = align8(HEAD + jsonLength);
  if (dataAt + dataLength !== b.length) throw new Error('flat payload: lengths do not add up');
  for (let i = HEAD + jsonLength; i < dataAt; i++) if (b[i] !== 0) throw new Error('flat payload: padding');
  const tree = JSON.parse(b.toString('utf8', HEAD, HEAD + jsonLength)) as unknown;
  const objects: object[] = [];
  const typed = (k: unknown, o: unknown, n: unknown): Typed => {
    if (typeof k !== 'string' || !Object.hasOwn(TYPED, k) || !Number.isSafeInteger(o) || !Number.isSafeInteger(n)) throw new Error('flat payload: typed array');
    const C = TYPED[k as TypedName];
    const at = o as number;
    const length = n as number;
    const size = length * C.BYTES_PER_ELEMENT;
    if (at < 0 || length < 0 || at % 8 !== 0 || at + size > dataLength) throw new Error('flat payload: typed array out of bounds');
    const offset = payload.byteOffset + dataAt + at;
    if (offset % C.BYTES_PER_ELEMENT === 0) return new C(payload.buffer as ArrayBuffer, offset, length);
    const copy = new C(length);
    new Uint8Array(copy.buffer).set(payload.subarray(dataAt + at, dataAt + at + size));
    return copy;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) {
      objects.push(v);
      for (let i = 0; i < v.length; i++) {
        const x = v[i] as unknown;
        if (typeof x === 'object' && x !== null && !Array.isArray(x) && (x as { $?: unknown }).$ === 'h' && ownKeyCount(x) === 1) delete v[i];
        else v[i] = walk(x);
      }
      return v;
    }
    const o = v as Record<string, unknown>;
    if (!Object.hasOwn(o, '$')) return plain(o);
    const keys = ownKeyCount(o);
    switch (o.$) {
      case 'u':
        if (keys === 1) return undefined;
        break;
      case 'n':
        if (keys === 2 && (o.v === 'NaN' || o.v === 'Infinity' || o.v === '-Infinity' || o.v === '-0')) return o.v === '-0' ? -0 : Number(o.v);
        break;
      case 'r':
        if (keys === 2 && Number.isSafeInteger(o.i) && (o.i as number) >= 0 && (o.i as number) < objects.length) return objects[o.i as number];
        break;
      case 'o':
        if (keys === 2 && typeof o.v === 'object' && o.v !== null && !Array.isArray(o.v)) return plain(o.v as Record<string, unknown>);
        break;
      case 'm':
        if (keys === 2 && Array.isArray(o.e)) {
          const m = new Map<unknown, unknown>();
          objects.push(m);
          for (const e of o.e as unknown[]) {
            if (!Array.isArray(e) || e.length !== 2) throw new Error('flat payload: map entry');
            m.set(walk(e[0]), walk(e[1]));
          }
          return m;
        }
        break;
      case 's':
        if (keys === 2 && Array.isArray(o.e)) {
          const s = new Set<unknown>();
          objects.push(s);
          for (const e of o.e as unknown[]) s.add(walk(e));
          return s;
        }
        break;
      case 't':
        if (keys === 4) {
          const t = typed(o.k, o.o, o.n);
          objects.push(t);
          return t;
        }
        break;
    }
    throw new Error('flat payload: unknown tag');
  };
  // for…in rather than Object.keys: no array per object (the hook reads a few thousand of them per start,
  // and every young object it allocates brings the next scavenge closer). JSON.parse makes plain objects,
  // whose prototype has no enumerable property: the keys are exactly the object's own.
  const plain = (o: Record<string, unknown>): object => {
    objects.push(o);
    for (const key in o) {
      if (key === '__proto__') throw new Error('flat payload: __proto__');
      o[key] = walk(o[key]);
    }
    return o;
  };
  return walk(tree);
}
