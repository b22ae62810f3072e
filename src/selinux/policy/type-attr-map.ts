import { readEbitmap, type Ebitmap } from './ebitmap.js';
import type { SymbolTable, TypeDatum } from './model.js';
import type { ByteReader } from './reader.js';

/**
 * The last section: for each type value, the attributes it has. As libsepol does, each type also maps to
 * itself (the degenerate case that lets one avtab walk over sattr x tattr find rules on the type itself),
 * and the inverse attribute -> types map is built; an attribute may not itself have attributes.
 */
export function readTypeAttrMaps(r: ByteReader, types: SymbolTable<TypeDatum>): { typeAttrMap: Ebitmap[]; attrTypeMap: Ebitmap[] } {
  r.section = 'type attribute map';
  const n = types.count;
  const typeAttrMap: Ebitmap[] = new Array<Ebitmap>(n);
  const memberCount = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const at = r.offset;
    const stored = readEbitmap(r);
    const datum = types.byValue[i];
    let hasSelf = false;
    for (let k = 0; k < stored.length; k++) {
      const j = stored[k]!;
      if (j === i) { hasSelf = true; continue; }
      if (j >= n) r.fail(`type value ${i + 1} has attribute value ${j + 1} beyond ${n}`, at);
      if (datum?.isAttribute) r.fail(`attribute ${datum.name} has attributes of its own`, at);
      memberCount[j]!++;
    }
    typeAttrMap[i] = datum && !hasSelf ? insertSorted(stored, i) : stored;
    if (datum && !datum.isAttribute) memberCount[i]!++;
  }
  // Inverse map, filled in ascending type order so each list comes out sorted.
  const attrTypeMap: Uint32Array[] = Array.from(memberCount, (c) => new Uint32Array(c));
  const fill = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const datum = types.byValue[i];
    if (!datum || datum.isAttribute) continue;
    for (const j of typeAttrMap[i]!) attrTypeMap[j]![fill[j]!++] = i;
  }
  return { typeAttrMap, attrTypeMap };
}

function insertSorted(map: Ebitmap, bit: number): Ebitmap {
  const out = new Uint32Array(map.length + 1);
  let k = 0;
  let placed = false;
  for (let s = 0; s < map.length; s++) {
    if (!placed && map[s]! > bit) { out[k++] = bit; placed = true; }
    out[k++] = map[s]!;
  }
  if (!placed) out[k] = bit;
  return out;
}
