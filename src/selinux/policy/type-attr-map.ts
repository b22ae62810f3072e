import { readEbitmapTransient } from './ebitmap.js';
import type { PackedSets, SymbolTable, TypeDatum } from './model.js';
import type { ByteReader } from './reader.js';

/**
 * The last section: for each type value, the attributes it has. As libsepol does, each type also maps to
 * itself (the degenerate case that lets one avtab walk over sattr x tattr find rules on the type itself),
 * and the inverse attribute -> types map is built; an attribute may not itself have attributes.
 * Both maps are packed (see PackedSets): this section is one bitmap per type, thousands of them.
 */
export function readTypeAttrMaps(r: ByteReader, types: SymbolTable<TypeDatum>): { typeAttrMap: PackedSets; attrTypeMap: PackedSets } {
  r.section = 'type attribute map';
  const n = types.count;
  const offsets = new Uint32Array(n + 1);
  let values = new Uint32Array(Math.max(16, n * 4));
  let used = 0;
  const memberCount = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    const stored = readEbitmapTransient(r);
    const datum = types.byValue[i];
    if (used + stored.length + 1 > values.length) {
      const bigger = new Uint32Array(Math.max(values.length * 2, used + stored.length + 1));
      bigger.set(values.subarray(0, used));
      values = bigger;
    }
    // Copy in order, inserting the type itself where it belongs when the file left it out.
    let selfPending = datum !== undefined;
    for (let k = 0; k < stored.length; k++) {
      const j = stored[k]!;
      if (j === i) {
        selfPending = false;
      } else {
        if (j >= n) r.fail(`type value ${i + 1} has attribute value ${j + 1} beyond ${n}`, at);
        if (datum?.isAttribute) r.fail(`attribute ${datum.name} has attributes of its own`, at);
        memberCount[j]!++;
        if (selfPending && j > i) { values[used++] = i; selfPending = false; }
      }
      values[used++] = j;
    }
    if (selfPending) values[used++] = i;
    if (datum && !datum.isAttribute) memberCount[i]!++;
    offsets[i + 1] = used;
  }
  const typeAttrMap = { offsets, values: values.slice(0, used) };

  // Inverse map, filled in ascending type order so each set comes out sorted.
  const inverseOffsets = new Uint32Array(n + 1);
  for (let a = 0; a < n; a++) inverseOffsets[a + 1] = inverseOffsets[a]! + memberCount[a]!;
  const inverse = new Uint32Array(inverseOffsets[n]!);
  const fill = inverseOffsets.slice(0, n);
  for (let i = 0; i < n; i++) {
    const datum = types.byValue[i];
    if (!datum || datum.isAttribute) continue;
    for (let k = offsets[i]!; k < offsets[i + 1]!; k++) {
      const a = typeAttrMap.values[k]!;
      inverse[fill[a]!++] = i;
    }
  }
  return { typeAttrMap, attrTypeMap: { offsets: inverseOffsets, values: inverse } };
}
