// The values the advanced-serialization tests send both ways, by name.
// The Go tests hold the same table (advanced_interop_test.go). A case's
// value() makes the value; its bytes are compared with childproc's
// unless loose is set (V8 chose a form for it that a Go value cannot
// ask for: a holey array without holes, a Uint8Array, a wrapper object);
// back() is the value childproc sends for it, when not the same.
// Node sends no undefined and no BigInt alone: those go in arrays.
const v8 = require('v8');
const util = require('util');
const { isArrayBufferView } = util.types;

// The child_process channel's serializer (lib/internal/child_process/serialization.js).
class ChildProcessSerializer extends v8.DefaultSerializer {
  _writeHostObject(object) {
    if (isArrayBufferView(object)) {
      this.writeUint32(0);
      return super._writeHostObject(object);
    }
    this.writeUint32(1);
    this.writeValue({ ...object });
  }
}
class ChildProcessDeserializer extends v8.DefaultDeserializer {
  _readHostObject() {
    if (this.readUint32() === 0) return super._readHostObject();
    return this.readValue();
  }
}
// received is what a value is once it went through the channel (a
// deserialized array, for one, is holey).
function received(value) {
  const d = new ChildProcessDeserializer(serialize(value));
  d.readHeader();
  return d.readValue();
}
function serialize(value) {
  const s = new ChildProcessSerializer();
  s.writeHeader();
  s.writeValue(value);
  return s.releaseBuffer();
}

function withStack(e, stack) { e.stack = stack; return e; }
const pattern = (n) => { const b = Buffer.alloc(n); for (let i = 0; i < n; i++) b[i] = (i * 7) & 0xff; return b; };

const cases = {
  null: { value: () => null },
  true: { value: () => true },
  false: { value: () => false },
  int: { value: () => 1 },
  negInt: { value: () => -123456 },
  int32Max: { value: () => 2147483647 },
  pastInt32: { value: () => 2147483648 },
  negZero: { value: () => -0 },
  nan: { value: () => NaN },
  inf: { value: () => Infinity },
  negInf: { value: () => -Infinity },
  fraction: { value: () => 1.5 },
  maxSafePlus: { value: () => 2 ** 53 + 2 },
  bigint: { value: () => [2n ** 53n + 1n] },
  negBigint: { value: () => [-5n] },
  zeroBigint: { value: () => [0n] },
  hugeBigint: { value: () => [-(2n ** 200n) - 12345n] },
  emptyString: { value: () => '' },
  ascii: { value: () => 'abc' },
  latin1: { value: () => 'é ÿ' },
  twoByte: { value: () => 'ÿ€ ok' },
  astral: { value: () => '😀' },
  loneHigh: { value: () => '\ud800' },
  loneMixed: { value: () => 'a\udfff\ud83db' },
  hugeString: { value: () => 'x'.repeat(8 << 20) },
  hugeTwoByte: { value: () => 'é😀\u2028'.repeat(100000) },
  object: { value: () => ({ a: 1, b: 'x', c: { d: [true, null] } }) },
  indexKeys: { value: () => ({ 0: 'z', 1: 'a', 4294967295: 'not an index', b: 2 }) },
  twoByteKey: { value: () => ({ a: 1, z: 'é', '€😀': 'two-byte key' }) },
  undefinedProp: { value: () => ({ u: undefined }) },
  array: { value: () => [1, 2, 3] },
  doubles: { value: () => [1.5, 2, -0] },
  mixed: { value: () => [1, 'a', null, undefined, 2 ** 40] },
  emptyArray: { value: () => [] },
  holes: { value: () => [1, , 3] }, // eslint-disable-line no-sparse-arrays
  sparseHuge: { value: () => { const a = []; a[1000000] = 'last'; return a; } },
  holeyFull: { value: () => new Array(3).fill(7), loose: true },
  date: { value: () => new Date(1700000000123) },
  epoch: { value: () => new Date(0) },
  regexp: { value: () => /ab+c/gi },
  regexpFlags: { value: () => /x/dgimsy },
  regexpTwoByte: { value: () => /é€\d/u },
  map: { value: () => new Map([[1, 'a'], ['k', 2]]) },
  nestedMaps: { value: () => new Map([[{ k: 1 }, new Map([['inner', new Set([1, 'two'])]])], [NaN, -0]]) },
  set: { value: () => new Set([1, 'a', {}, [2]]) },
  emptyBuffer: { value: () => Buffer.alloc(0) },
  buffer: { value: () => Buffer.from([1, 2, 3, 255]) },
  hugeBuffer: { value: () => pattern(8 << 20) },
  uint8Array: { value: () => new Uint8Array([4, 5]), loose: true, back: () => Buffer.from([4, 5]) },
  int8Array: { value: () => new Int8Array([-1, 2]) },
  int16Array: { value: () => new Int16Array([-1, 300]) },
  uint16Array: { value: () => new Uint16Array([65535]) },
  int32Array: { value: () => new Int32Array([-5, 1 << 30]) },
  uint32Array: { value: () => new Uint32Array([4294967295]) },
  float32Array: { value: () => new Float32Array([1.5, -0]) },
  float64Array: { value: () => new Float64Array([Math.PI, NaN]) },
  bigInt64Array: { value: () => new BigInt64Array([-1n, 2n ** 62n]) },
  bigUint64Array: { value: () => new BigUint64Array([2n ** 64n - 1n]) },
  uint8Clamped: { value: () => new Uint8ClampedArray([0, 255]) },
  dataView: { value: () => new DataView(new Uint8Array([9, 8, 7]).buffer) },
  arrayBuffer: { value: () => new Uint8Array([1, 2]).buffer },
  cyclic: { value: () => { const o = { a: 1 }; o.self = o; return o; } },
  shared: { value: () => { const o = { x: 1 }; return [o, o, { o }]; } },
  cyclicArray: { value: () => { const a = [1]; a.push(a); return a; } },
  cyclicHoley: { value: () => { const a = new Array(2).fill(1); a[1] = a; return a; }, loose: true },
  cyclicMap: { value: () => { const m = new Map(); m.set('me', m); return m; } },
  error: { value: () => withStack(new TypeError('boom', { cause: withStack(new RangeError('inner'), 'S2') }), 'S1') },
  plainError: { value: () => withStack(new Error(), 'just a stack') },
  // Node 20 writes an Error whose cause refers back to it, and cannot read it.
  errorCauseSelf: { value: () => { const e = withStack(new Error('me'), 'S'); e.cause = e; return e; }, unreadable: true },
  numberObject: { value: () => new Number(3), loose: true, back: () => 3 }, // eslint-disable-line no-new-wrappers
  evalError: { value: () => withStack(new EvalError('e'), 'S') },
  referenceError: { value: () => withStack(new ReferenceError('r'), 'S') },
  syntaxError: { value: () => withStack(new SyntaxError('s'), 'S') },
  uriError: { value: () => withStack(new URIError('u'), 'S') },
  booleanObject: { value: () => new Boolean(true), loose: true, back: () => true }, // eslint-disable-line no-new-wrappers
  stringObject: { value: () => new String('é'), loose: true, back: () => 'é' }, // eslint-disable-line no-new-wrappers
  bigintObject: { value: () => [Object(5n)], loose: true, back: () => [5n] },
  invalidDate: { value: () => new Date(NaN) },
  emptyMap: { value: () => new Map() },
  emptySet: { value: () => new Set() },
  everything: {
    value: () => ({
      list: [undefined, null, -0, NaN, 1n, 'é', '€', new Date(5), /r/y],
      map: new Map([[1n, Buffer.from('hi')]]),
      nested: { deeper: { deepest: new Set([new Float64Array([0.25])]) } },
    }),
  },
};

// same reports whether two received values are equal, as
// isDeepStrictEqual says, which holds an invalid Date unequal to itself.
function same(a, b) {
  const invalid = (d) => d instanceof Date && Number.isNaN(d.getTime());
  return util.isDeepStrictEqual(a, b) || (invalid(a) && invalid(b));
}

module.exports = { cases, serialize, received, same };
