/**
 * Random well-formed documents built from a model: the gate must accept every one, libxml2 (xmllint)
 * must too, and the tree must give back exactly the model (names, decoded attribute values, quotes,
 * child order, decoded text). Character data is written with random escaping (entities, decimal and
 * hex references, CDATA), so decoding is checked, not just acceptance.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseXmlString } from '../../src/xml/parse.js';
import type { XmlElement } from '../../src/xml/tree.js';
import { missingRequirements } from '../support/requirements.js';

interface ModelElement {
  readonly name: string;
  readonly attributes: readonly { name: string; value: string; quote: "'" | '"' }[];
  readonly content: readonly Content[];
}
type Content =
  | { kind: 'element'; element: ModelElement }
  | { kind: 'text'; value: string }
  | { kind: 'cdata'; value: string }
  | { kind: 'comment'; value: string }
  | { kind: 'pi'; target: string; data: string };

const NAMES = ['domain', 'disk', 'source', 'q:x', 'a-b.c', '_x', 'é', 'ü·', 'Ω', '\u{10000}z', 'x\u0300', 'seclabel'];
const name = fc.constantFrom(...NAMES);
/** Characters including the ones that need escaping and some outside the BMP. */
const textChar = fc.constantFrom('a', 'Z', ' ', '<', '>', '&', "'", '"', ']', '\n', '\t', 'é', '€', '\u{1F600}', '/', '=', '-', '?');
const text = fc.array(textChar, { maxLength: 12 }).map((cs) => cs.join(''));
const comment = fc.array(fc.constantFrom('a', ' ', '-x', '<', '>', '&', 'é'), { maxLength: 6 }).map((cs) => cs.join(''));

const element: fc.Arbitrary<ModelElement> = fc.letrec<{ element: ModelElement; content: Content }>((tie) => ({
  element: fc.record({
    name,
    attributes: fc.uniqueArray(fc.record({ name, value: text, quote: fc.constantFrom("'" as const, '"' as const) }), { selector: (a) => a.name, maxLength: 3 }),
    content: fc.array(tie('content'), { maxLength: 4 }),
  }),
  content: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('text' as const), value: text }),
    fc.record({ kind: fc.constant('cdata' as const), value: text.map((t) => t.replaceAll(']]>', ']] >')) }),
    fc.record({ kind: fc.constant('comment' as const), value: comment }),
    fc.record({ kind: fc.constant('pi' as const), target: fc.constantFrom('pi', 'virt-manager', 'x-y'), data: text.map((t) => t.replaceAll('?>', '? >')) }),
    fc.record({ kind: fc.constant('element' as const), element: tie('element') }),
  ),
})).element;

/** One of several correct spellings of a character, chosen by a seed so the output is reproducible. */
function escapeChar(c: string, inAttribute: "'" | '"' | undefined, pick: number): string {
  const cp = c.codePointAt(0) as number;
  const ref = pick % 2 === 0 ? `&#${cp};` : `&#x${cp.toString(16)};`;
  if (c === '<') return pick % 3 === 0 ? ref : '&lt;';
  if (c === '&') return pick % 3 === 0 ? ref : '&amp;';
  if (c === '>') return pick % 3 === 0 ? '>' : '&gt;';
  if (inAttribute !== undefined && c === inAttribute) return c === '"' ? '&quot;' : '&apos;';
  // Literal whitespace in attributes would be normalised to a space; a reference keeps it.
  if (inAttribute !== undefined && (c === '\n' || c === '\t')) return ref;
  return pick % 5 === 0 && cp > 0x20 ? ref : c;
}

function escape(s: string, inAttribute?: "'" | '"'): string {
  let out = '';
  let i = 0;
  for (const c of s) out += escapeChar(c, inAttribute, (i += 7));
  // ']]>' may not appear literally in text; the '>' is always escaped after ']]'.
  return out.replaceAll(']]>', ']]&gt;');
}

function write(el: ModelElement): string {
  const attrs = el.attributes.map((a) => ` ${a.name}=${a.quote}${escape(a.value, a.quote)}${a.quote}`).join('');
  if (el.content.length === 0) return `<${el.name}${attrs}/>`;
  const body = el.content
    .map((c) => {
      switch (c.kind) {
        case 'element':
          return write(c.element);
        case 'text':
          return escape(c.value);
        case 'cdata':
          return `<![CDATA[${c.value}]]>`;
        case 'comment':
          return `<!--${c.value}-->`;
        case 'pi':
          return `<?${c.target} ${c.data}?>`;
      }
    })
    .join('');
  return `<${el.name}${attrs}>${body}</${el.name}>`;
}

/** What the tree must say about a model element. */
function expected(el: ModelElement): unknown {
  return {
    name: el.name,
    attributes: el.attributes.map((a) => ({ name: a.name, value: a.value, quote: a.quote })),
    text: el.content.map((c) => (c.kind === 'text' || c.kind === 'cdata' ? c.value : '')).join(''),
    children: el.content.flatMap((c) => (c.kind === 'element' ? [expected(c.element)] : [])),
  };
}

function actual(el: XmlElement): unknown {
  return { name: el.name, attributes: el.attributes, text: el.text, children: el.children.map(actual) };
}

describe('generated well-formed documents', () => {
  it('are accepted and map to exactly their model', () => {
    fc.assert(
      fc.property(element, fc.constantFrom('', "<?xml version='1.0' encoding='UTF-8'?>\n", '<!-- c -->\n'), (root, prolog) => {
        const doc = parseXmlString(prolog + write(root) + '\n');
        if (!doc.ok) throw new Error(`${doc.error.line}:${doc.error.column} ${doc.error.message}\n${prolog + write(root)}`);
        expect(actual(doc.value.root)).toEqual(expected(root));
      }),
      { numRuns: 2000 },
    );
  });

  const noXmllint = missingRequirements({ commands: ['xmllint'] });
  it.skipIf(noXmllint !== undefined)('are accepted by libxml2 (xmllint) as well', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsl-xml-gen-'));
    try {
      const docs = fc.sample(element, { numRuns: 400, seed: 7 });
      const files = docs.map((d, i) => {
        const path = join(dir, `g${i}.xml`);
        writeFileSync(path, write(d));
        return path;
      });
      let stderr = '';
      try {
        execFileSync('xmllint', ['--noout', '--nonet', ...files], { stdio: 'pipe', maxBuffer: 64 << 20 });
      } catch (e) {
        stderr = String((e as { stderr?: Buffer }).stderr ?? '');
      }
      expect(stderr.split('\n').filter((l) => l.includes('parser error'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
