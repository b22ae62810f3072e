/**
 * Mutants of domain XML for the fuzzers: text-level edits that aim at the places a splice can go wrong
 * (around <source>, quotes, line endings, comments, CDATA, entities) and byte-level ones that aim at the
 * decoder (invalid UTF-8, BOMs, NULs). Each mutant carries the names of the operators applied, so a
 * failure message says what was done, and the seed replays it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Rng } from './prng.js';

export interface Mutant {
  readonly bytes: Uint8Array;
  /** The operators applied, in order, for the failure message. */
  readonly ops: readonly string[];
}

/** Tokens that are each a known trap for an XML parser or for a splice that assumes tidy input. */
export const NASTY_TOKENS: readonly string[] = [
  '<', '>', '&', '&amp;', '&lt;', '&#0;', '&#x110000;', '&#xD800;', '&#65;', '&#x2F;', '&nbsp;', '&x;',
  '<!--', '-->', '<!-- c -->', '<!---->', '<!-- -- -->', '<![CDATA[', ']]>', '<![CDATA[<source file="/x"/>]]>',
  '<!DOCTYPE domain>', '<!DOCTYPE a [<!ENTITY x "y">]>', '<!ENTITY x SYSTEM "file:///etc/shadow">', '<!ELEMENT a ANY>',
  "'", '"', '=', '/>', '</source>', '<source>', "<source file='/srv/iso/debian.iso'/>", '</disk>', '<disk>',
  "<seclabel model='dac' relabel='no'/>", "<seclabel model='selinux' relabel='no'/>", "<seclabel relabel='no'/>",
  "<seclabel model='dac' relabel='yes'><label>+0:+0</label></seclabel>", '<readonly/>', '<shareable/>',
  '\r', '\r\n', '\n', '\t', ' ', '\u00a0', '\u2028', '\u0085', '\ufeff', '\u0000', '\u0007', '\uffff', '\u{1F600}',
  '<?pi data?>', '<?xml version="1.0"?>', '<?xml-stylesheet x?>', '<a:b xmlns:a="u"/>', 'xmlns="urn:x"',
  " file='/srv/iso/debian.iso'", " type='file'", " model='dac'", ' relabel="no"', '<source/>',
];

type TextOp = (text: string, rng: Rng) => string;

const spanOf = (text: string, rng: Rng): [number, number] => {
  const a = rng.int(text.length + 1);
  const len = rng.chance(0.7) ? rng.int(8) : rng.int(200);
  return [a, Math.min(text.length, a + len)];
};

/** A position near a <source tag most of the time: that is where the splice works. */
function nearSource(text: string, rng: Rng): number {
  const hits: number[] = [];
  for (let i = text.indexOf('<source'); i >= 0 && hits.length < 64; i = text.indexOf('<source', i + 1)) hits.push(i);
  if (hits.length === 0 || rng.chance(0.3)) return rng.int(text.length + 1);
  const at = rng.pick(hits) - 10 + rng.int(70);
  return Math.max(0, Math.min(text.length, at));
}

const TEXT_OPS: Readonly<Record<string, TextOp>> = {
  deleteSpan: (t, rng) => {
    const [a, b] = spanOf(t, rng);
    return t.slice(0, a) + t.slice(b);
  },
  duplicateSpan: (t, rng) => {
    const [a, b] = spanOf(t, rng);
    return t.slice(0, b) + t.slice(a, b) + t.slice(b);
  },
  insertToken: (t, rng) => {
    const at = nearSource(t, rng);
    return t.slice(0, at) + rng.pick(NASTY_TOKENS) + t.slice(at);
  },
  truncate: (t, rng) => t.slice(0, rng.int(t.length + 1)),
  swapQuotes: (t, rng) => {
    const i = t.indexOf(rng.chance(0.5) ? "'" : '"', rng.int(t.length));
    return i < 0 ? t : t.slice(0, i) + (t[i] === "'" ? '"' : "'") + t.slice(i + 1);
  },
  allQuotesDouble: (t) => t.replace(/'/g, '"'),
  crlf: (t) => t.replace(/\r?\n/g, '\r\n'),
  loneCr: (t) => t.replace(/\r?\n/g, '\r'),
  tabs: (t) => t.replace(/^( {2})+/gm, (m) => '\t'.repeat(m.length / 2)),
  noNewlines: (t) => t.replace(/\r?\n\s*/g, ''),
  commentAroundSource: (t, rng) =>
    t.replace(/<source\b[^>]*>/, (m) => (rng.chance(0.5) ? `<!-- before -->${m}<!-- after -->` : `${m}<!-- <seclabel model='dac' relabel='no'/> -->`)),
  cdataInSource: (t) => t.replace(/<source\b([^>]*?)\/>/, '<source$1><![CDATA[ ]]></source>'),
  piInSource: (t) => t.replace(/<source\b([^>]*?)\/>/, '<source$1><?pi x?></source>'),
  openSource: (t) => t.replace(/<source\b([^>]*?)\s*\/>/, '<source$1></source>'),
  spaceBeforeSlash: (t) => t.replace(/<source\b([^>]*?)\/>/, '<source$1 \n   />'),
  entityInPath: (t) => t.replace(/file='\/([^']*)'/, "file='&#47;$1'"),
  newlineInAttribute: (t) => t.replace(/<source (\w+)=/, '<source\n\t$1 =\r\n '),
  renameSource: (t, rng) => t.replace(/<(\/?)source\b/, rng.chance(0.5) ? '<$1Source' : '<$1src:source'),
  duplicateAttribute: (t) => t.replace(/<source (\w+)=('[^']*')/, '<source $1=$2 $1=$2'),
  deepWrap: (t, rng) => {
    const n = rng.pick([10, 200, 255, 256, 257, 5000]);
    return t.replace(/<devices>/, '<devices>' + '<x>'.repeat(n)).replace(/<\/devices>/, '</x>'.repeat(n) + '</devices>');
  },
  longAttribute: (t, rng) => t.replace(/<source /, `<source x${rng.int(9)}='${'A'.repeat(rng.pick([1000, 100_000]))}' `),
  manyDisks: (t) => {
    const m = /<disk[\s\S]*?<\/disk>/.exec(t);
    return m ? t.replace(m[0], m[0].repeat(50)) : t;
  },
};

type ByteOp = (b: Uint8Array, rng: Rng) => Uint8Array;

const concat = (...parts: ArrayLike<number>[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => Array.from(p)));

const BYTE_OPS: Readonly<Record<string, ByteOp>> = {
  flipBit: (b, rng) => {
    if (b.length === 0) return b;
    const c = Uint8Array.from(b);
    const i = rng.int(c.length);
    c[i] = (c[i] as number) ^ (1 << rng.int(8));
    return c;
  },
  randomByte: (b, rng) => {
    const i = rng.int(b.length + 1);
    return concat(b.subarray(0, i), [rng.int(256)], b.subarray(i));
  },
  badUtf8: (b, rng) => {
    const i = rng.int(b.length + 1);
    const seq = rng.pick([[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xe2, 0x82], [0xff], [0xfe, 0xff]]);
    return concat(b.subarray(0, i), seq, b.subarray(i));
  },
  addBom: (b) => concat([0xef, 0xbb, 0xbf], b),
  utf16: (b) => {
    const out = [0xff, 0xfe];
    for (const x of b) out.push(x, 0);
    return Uint8Array.from(out);
  },
  truncateMidChar: (b) => {
    // Cut inside the last multi-byte character, if any.
    for (let i = b.length - 1; i >= 0; i--) if ((b[i] as number) >= 0xc0) return b.subarray(0, i + 1);
    return b;
  },
};

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** 1–3 operators, mostly text-level, applied to a seed document. */
export function mutate(seed: Uint8Array, rng: Rng): Mutant {
  const ops: string[] = [];
  let bytes = seed;
  const rounds = 1 + rng.int(3);
  for (let r = 0; r < rounds; r++) {
    if (rng.chance(0.8)) {
      const name = rng.pick(Object.keys(TEXT_OPS));
      ops.push(name);
      bytes = encoder.encode(TEXT_OPS[name]!(decoder.decode(bytes), rng));
    } else {
      const name = rng.pick(Object.keys(BYTE_OPS));
      ops.push(name);
      bytes = BYTE_OPS[name]!(bytes, rng);
    }
  }
  return { bytes, ops };
}

/** Constructs written by hand, around <source>, that well-formed input may contain: all must be accepted. */
export const WELL_FORMED_NASTIES: readonly [string, string][] = [
  ['comment inside source', "<source file='/srv/a.iso'><!-- keep me --></source>"],
  ['comment holding a seclabel', "<source file='/srv/a.iso'>\n  <!-- <seclabel model='dac' relabel='no'/> -->\n</source>"],
  ['CDATA inside source', "<source file='/srv/a.iso'><![CDATA[<seclabel/>]]></source>"],
  ['PI inside source', "<source file='/srv/a.iso'><?keep this?></source>"],
  ['entity-encoded path', "<source file='&#47;srv&#x2F;a.iso'/>"],
  ['ampersand in path', "<source file='/srv/a&amp;b.iso'/>"],
  ['quote entities in path', '<source file="/srv/&quot;q&apos;.iso"/>'],
  ['greater-than in attribute', "<source file='/srv/a>b.iso'/>"],
  ['newlines inside the tag', "<source\n   file='/srv/a.iso'\n\t/>"],
  ['space before />', "<source file='/srv/a.iso'   />"],
  ['empty open source', "<source file='/srv/a.iso'></source>"],
  ['whitespace-only source', "<source file='/srv/a.iso'>\n      \n    </source>"],
  ['end tag with space', "<source file='/srv/a.iso'></source   >"],
  ['non-BMP in path', "<source file='/srv/\u{1F600}.iso'/>"],
  ['NBSP and LS in path', "<source file='/srv/a\u00a0b\u2028.iso'/>"],
  ['existing seclabel, odd spacing', "<source file='/srv/a.iso'><seclabel   model = \"dac\"\n relabel='no' /></source>"],
  ['slices then auth', "<source file='/srv/a.iso'>\n<slices><slice type='storage' offset='0' size='1'/></slices><auth username='x'/></source>"],
  ['text inside source', "<source file='/srv/a.iso'>some text</source>"],
];

/** Wraps a <source …> fragment in a minimal domain with a read-only cdrom. */
export function domainWith(source: string, eol = '\n'): string {
  return [
    "<domain type='kvm'>",
    '  <name>nasty</name>',
    '  <devices>',
    "    <disk type='file' device='cdrom'>",
    "      <driver name='qemu' type='raw'/>",
    `      ${source}`,
    "      <target dev='sda' bus='sata'/>",
    '      <readonly/>',
    '    </disk>',
    '  </devices>',
    '</domain>',
    '',
  ].join(eol);
}

const SAMPLES = join(import.meta.dirname, '../../../samples/domains');

/** The sample domains, then the hand-written constructs each in a small domain: the fuzzers' seeds. */
export function seedDocuments(opts: { nasties: boolean } = { nasties: true }): { name: string; bytes: Uint8Array }[] {
  const samples = readdirSync(SAMPLES)
    .filter((f) => f.endsWith('.xml'))
    .sort()
    .map((f) => ({ name: f, bytes: new Uint8Array(readFileSync(join(SAMPLES, f))) }));
  if (!opts.nasties) return samples;
  return [...samples, ...WELL_FORMED_NASTIES.map(([name, src]) => ({ name, bytes: encoder.encode(domainWith(src)) }))];
}
