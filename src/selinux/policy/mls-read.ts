import { readEbitmap } from './ebitmap.js';
import type { MlsLevel, MlsRange } from './model.js';
import type { ByteReader } from './reader.js';

/** A level as stored for sensitivities and users' default levels: sensitivity value + category ebitmap. */
export function readLevel(r: ByteReader): MlsLevel {
  const sens = r.u32('level sensitivity');
  return { sens, cats: readEbitmap(r) };
}

/**
 * A range as libsepol's mls_read_range_helper stores it: the number of sensitivities (1 or 2), the
 * sensitivities, then the low categories and, when there are two, the high categories.
 */
export function readRange(r: ByteReader): MlsRange {
  const at = r.offset;
  const items = r.u32('range item count');
  if (items !== 1 && items !== 2) r.fail(`range has ${items} sensitivities (1 or 2 expected)`, at);
  const lowSens = r.u32('range low sensitivity');
  const highSens = items === 2 ? r.u32('range high sensitivity') : lowSens;
  const lowCats = readEbitmap(r);
  const highCats = items === 2 ? readEbitmap(r) : lowCats;
  return { low: { sens: lowSens, cats: lowCats }, high: { sens: highSens, cats: highCats } };
}
