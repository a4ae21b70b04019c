#!/usr/bin/env node
/**
 * docs/options.md from the library's option tables, so that the documentation cannot drift from
 * the code. Every `export const NAME_OPTIONS = { … }` under lib/ is read with the TypeScript
 * parser: each entry's name, its doc comment, its `default` (or "required" / "optional") —
 * the same declaration lib/validate.ts turns into the options type and the checks.
 *
 *   node scripts/option-tables.mjs                 write docs/options.md
 *   node scripts/option-tables.mjs --check         exit 1 (and say so) when docs/options.md is stale
 *   options: --out FILE (another target, for tests)
 *
 * test/options-doc.test.ts runs --check, so a changed option table fails the unit tests until
 * this script is re-run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { ROOT } from './files.mjs';

const require = createRequire(import.meta.url);
const ts = require('typescript');

const LIB = path.join(ROOT, 'lib');
export const DEFAULT_OUT = path.join(ROOT, 'docs', 'options.md');

/** Tables shown first, in this order, with what takes them; the rest follow by file. */
const FIRST = [
  ['VQ_OPTIONS', '`new VectorQuantizer(options)`'],
  ['EMA_OPTIONS', "VectorQuantizer's `ema: { … }`"],
  ['FORWARD_OPTIONS', '`quantizer.forward(z, options)` (every quantizer)'],
  ['FSQ_OPTIONS', '`new FSQ(options)`'],
  ['LFQ_OPTIONS', '`new LFQ(options)`'],
  ['SIMVQ_OPTIONS', '`new SimVQ(options)`'],
  ['RESIDUAL_VQ_OPTIONS', '`new ResidualVQ(options)`'],
  ['KMEANS_OPTIONS', "`kmeans(…)` (VectorQuantizer's `init: 'kmeans'`)"],
  ['TRAIN_QUANTIZER_OPTIONS', '`trainQuantizer(…)`'],
];

function sourceFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

/** The doc comment directly above a node, as one line of plain text ('' when there is none). */
function docOf(node, sf) {
  const ranges = ts.getLeadingCommentRanges(sf.text, node.getFullStart()) ?? [];
  const docs = ranges.map((r) => sf.text.slice(r.pos, r.end)).filter((c) => c.startsWith('/**'));
  if (docs.length === 0) return '';
  return docs[docs.length - 1]
    .replace(/^\/\*\*|\*\/$/g, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\*\s?/, '').trim())
    .filter(Boolean)
    .join(' ');
}

/** `'batch' as EntropyForm` → `'batch'`; other expressions as written. */
function valueText(expr, sf) {
  let e = expr;
  while (ts.isAsExpression(e) || ts.isParenthesizedExpression(e) || ts.isSatisfiesExpression?.(e)) e = e.expression;
  return e.getText(sf).replace(/\s+/g, ' ');
}

/** Every exported `*_OPTIONS` object literal: { name, file, doc, entries: [{ name, doc, default }] }. */
export function readTables() {
  const tables = [];
  for (const file of sourceFiles(LIB)) {
    const text = fs.readFileSync(file, 'utf8');
    if (!/export const \w+_OPTIONS\b/.test(text)) continue;
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    // Top-level object literals of the file, for entries spread into a table (`...DIR_OPTION`).
    const locals = new Map();
    for (const stmt of sf.statements) {
      if (!ts.isVariableStatement(stmt)) continue;
      for (const decl of stmt.declarationList.declarations) {
        if (decl.initializer && ts.isObjectLiteralExpression(decl.initializer)) locals.set(decl.name.getText(sf), decl.initializer);
      }
    }
    const entriesOf = (literal) => {
      const entries = [];
      for (const prop of literal.properties) {
        if (ts.isSpreadAssignment(prop)) {
          const ref = prop.expression.getText(sf);
          if (ref.endsWith('_OPTIONS')) {
            entries.push({ name: `...${ref}`, doc: `Every option of [\`${ref}\`](#${ref.toLowerCase()}).`, default: '' });
          } else if (locals.has(ref)) {
            entries.push(...entriesOf(locals.get(ref)));
          } else {
            entries.push({ name: `...${ref}`, doc: '', default: '' });
          }
          continue;
        }
        const key = prop.name?.getText(sf) ?? prop.getText(sf);
        let def = 'see description';
        if (ts.isPropertyAssignment(prop) && ts.isObjectLiteralExpression(prop.initializer)) {
          const fields = new Map(prop.initializer.properties.filter(ts.isPropertyAssignment).map((p) => [p.name.getText(sf), p.initializer]));
          if (fields.has('default')) def = `\`${valueText(fields.get('default'), sf)}\``;
          else if (fields.has('optional')) def = 'optional';
          else def = '**required**';
        }
        entries.push({ name: key, doc: docOf(prop, sf), default: def });
      }
      return entries;
    };
    for (const stmt of sf.statements) {
      if (!ts.isVariableStatement(stmt)) continue;
      if (!stmt.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) continue;
      for (const decl of stmt.declarationList.declarations) {
        const name = decl.name.getText(sf);
        if (!name.endsWith('_OPTIONS') || !decl.initializer || !ts.isObjectLiteralExpression(decl.initializer)) continue;
        tables.push({ name, file: path.relative(ROOT, file).split(path.sep).join('/'), doc: docOf(stmt, sf), entries: entriesOf(decl.initializer) });
      }
    }
  }
  const rank = (t) => {
    const i = FIRST.findIndex(([n]) => n === t.name);
    return i === -1 ? FIRST.length : i;
  };
  return tables.sort((a, b) => rank(a) - rank(b) || a.file.localeCompare(b.file) || a.name.localeCompare(b.name));
}

const cell = (s) => s.replace(/\|/g, '\\|').replace(/</g, '&lt;');

/** The text of docs/options.md. */
export function renderOptions(tables = readTables()) {
  const lines = [
    '# Options',
    '',
    '<!-- Generated by `node scripts/option-tables.mjs` from the `*_OPTIONS` tables in lib/; do not edit.',
    '     test/options-doc.test.ts fails when this file is out of date. -->',
    '',
    "Every class and function of the library checks its options against one table declared in its",
    "source (name, check, default, doc comment). This page is generated from those tables. An",
    "unknown or misspelled option name throws, naming the option and the nearest known one.",
    "Options marked **required** have no default; *optional* ones may be left out.",
    '',
    'For the option names of vector-quantize-pytorch, see',
    '[docs/vector-quantize-pytorch.md](vector-quantize-pytorch.md).',
    '',
  ];
  lines.push('| table | used by | source |', '|---|---|---|');
  for (const t of tables) {
    const usedBy = FIRST.find(([n]) => n === t.name)?.[1] ?? '';
    lines.push(`| [\`${t.name}\`](#${t.name.toLowerCase()}) | ${cell(usedBy)} | \`${t.file}\` |`);
  }
  lines.push('');
  for (const t of tables) {
    lines.push(`## ${t.name}`, '');
    const usedBy = FIRST.find(([n]) => n === t.name)?.[1];
    lines.push(`\`${t.file}\`${usedBy ? ` — used by ${usedBy}` : ''}.${t.doc ? ` ${t.doc}` : ''}`, '');
    lines.push('| option | default | description |', '|---|---|---|');
    for (const e of t.entries) lines.push(`| \`${e.name}\` | ${cell(e.default)} | ${cell(e.doc)} |`);
    lines.push('');
  }
  return lines.join('\n');
}

function main() {
  const { values } = parseArgs({ options: { check: { type: 'boolean', default: false }, out: { type: 'string' } } });
  const out = path.resolve(values.out ?? DEFAULT_OUT);
  const want = renderOptions();
  const rel = path.relative(process.cwd(), out) || out;
  if (values.check) {
    const have = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : null;
    if (have === want) { console.log(`${rel} is up to date`); return; }
    console.error(`${rel} is ${have === null ? 'missing' : 'out of date'}: run \`node scripts/option-tables.mjs\` and commit the result`);
    process.exit(1);
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, want);
  console.log(`wrote ${rel}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) main();
