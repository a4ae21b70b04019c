/**
 * One notebook cell, TypeScript → a script the worker can evaluate, with tslab's cell semantics:
 *
 *  - types are erased by `ts.transpileModule` (no type check: a type error does not stop a cell);
 *  - top-level `const`/`let`/`var`, functions, classes and imports become assignments to global
 *    names, so later cells see them (the worker's global object is the notebook's scope; the
 *    code runs in sloppy mode, where assigning an undeclared name creates a global);
 *  - imports are hoisted and resolved through `__tsImport(specifier)` (the worker maps
 *    specifiers to bundled modules); function declarations are hoisted too;
 *  - the cell body runs inside an async function, so top-level `await` works;
 *  - the value of a final expression statement is the script's result (shown as the cell's
 *    execute_result).
 *
 * Pure: no DOM, no worker API (test/lite-transform.test.mjs runs it under Node).
 */
import ts from 'typescript';

export interface TransformedCell {
  /** A script for indirect eval: evaluates to a promise of the cell's last expression value. */
  code: string;
  /** Names the cell declares at top level (they become globals). */
  declared: string[];
  /** Module specifiers the cell imports, in order. */
  imports: string[];
}

/** A cell that does not parse: `ename` SyntaxError, with line:column in the message. */
export class CellSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyntaxError';
  }
}

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  // Keep every import that is not written `import type`: an import used only in types in its
  // own cell may still be used as a value by a later one.
  verbatimModuleSyntax: true,
  useDefineForClassFields: true,
  removeComments: false,
  sourceMap: false,
};

function bindingNames(name: ts.BindingName, out: string[]): void {
  if (ts.isIdentifier(name)) {
    out.push(name.text);
    return;
  }
  for (const el of name.elements) {
    if (ts.isOmittedExpression(el)) continue;
    bindingNames(el.name, out);
  }
}

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return (ts.canHaveModifiers(node) ? ts.getModifiers(node) ?? [] : []).some((m) => m.kind === kind);
}

/** The node's text without leading `export` / `export default` modifiers. */
function textWithoutExport(node: ts.Node, sf: ts.SourceFile): string {
  const mods = ts.canHaveModifiers(node) ? ts.getModifiers(node) ?? [] : [];
  let start = node.getStart(sf);
  for (const m of mods) {
    if (m.kind === ts.SyntaxKind.ExportKeyword || m.kind === ts.SyntaxKind.DefaultKeyword) start = m.getEnd();
  }
  return sf.text.slice(start, node.getEnd()).trim();
}

function formatDiagnostic(d: ts.Diagnostic): string {
  const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  if (d.file && d.start !== undefined) {
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `(${line + 1},${character + 1}): ${msg}`;
  }
  return msg;
}

/** Transpile and rewrite one cell (see the file comment). Throws CellSyntaxError. */
export function transformCell(source: string, cellName = 'cell.ts'): TransformedCell {
  const out = ts.transpileModule(source, { compilerOptions: COMPILER_OPTIONS, fileName: cellName, reportDiagnostics: true });
  const errors = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) throw new CellSyntaxError(errors.map(formatDiagnostic).join('\n'));

  const sf = ts.createSourceFile('cell.js', out.outputText, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const hoistedImports: string[] = [];
  const hoistedFunctions: string[] = [];
  const body: string[] = [];
  const declared: string[] = [];
  const imports: string[] = [];
  let tmp = 0;

  const statements = sf.statements;
  statements.forEach((stmt, i) => {
    const isLast = i === statements.length - 1;
    if (ts.isImportDeclaration(stmt)) {
      const spec = (stmt.moduleSpecifier as ts.StringLiteral).text;
      imports.push(spec);
      const load = `await __tsImport(${JSON.stringify(spec)})`;
      const clause = stmt.importClause;
      if (!clause) {
        hoistedImports.push(`${load};`);
        return;
      }
      if (clause.isTypeOnly) return;
      const m = `__tsModule${tmp++}`;
      const lines = [`const ${m} = ${load};`];
      if (clause.name) {
        declared.push(clause.name.text);
        lines.push(`${clause.name.text} = ${m}.default !== undefined ? ${m}.default : ${m};`);
      }
      const nb = clause.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) {
        declared.push(nb.name.text);
        lines.push(`${nb.name.text} = ${m};`);
      } else if (nb) {
        for (const el of nb.elements) {
          if (el.isTypeOnly) continue;
          const imported = (el.propertyName ?? el.name).text;
          declared.push(el.name.text);
          lines.push(`${el.name.text} = ${m}[${JSON.stringify(imported)}];`);
        }
      }
      hoistedImports.push(lines.join(' '));
      return;
    }
    if (ts.isExportDeclaration(stmt)) return; // `export {}` (transpile output) or re-exports
    if (ts.isVariableStatement(stmt)) {
      const isVar = !(stmt.declarationList.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const));
      const parts: string[] = [];
      for (const decl of stmt.declarationList.declarations) {
        bindingNames(decl.name, declared);
        const target = decl.name.getText(sf);
        if (decl.initializer) {
          const assign = `${target} = ${decl.initializer.getText(sf)}`;
          parts.push(ts.isObjectBindingPattern(decl.name) ? `(${assign});` : `${assign};`);
        } else if (!isVar && ts.isIdentifier(decl.name)) {
          parts.push(`${target} = undefined;`);
        }
      }
      body.push(parts.join(' '));
      return;
    }
    if (ts.isFunctionDeclaration(stmt) && stmt.name) {
      declared.push(stmt.name.text);
      if (stmt.body) hoistedFunctions.push(`${stmt.name.text} = ${textWithoutExport(stmt, sf)};`);
      return;
    }
    if (ts.isClassDeclaration(stmt) && stmt.name) {
      declared.push(stmt.name.text);
      body.push(`${stmt.name.text} = ${textWithoutExport(stmt, sf)};`);
      return;
    }
    if (ts.isExportAssignment(stmt)) {
      body.push(isLast ? `return (${stmt.expression.getText(sf)});` : `${stmt.expression.getText(sf)};`);
      return;
    }
    if (isLast && ts.isExpressionStatement(stmt)) {
      body.push(`return (${stmt.expression.getText(sf)});`);
      return;
    }
    const text = hasModifier(stmt, ts.SyntaxKind.ExportKeyword) ? textWithoutExport(stmt, sf) : stmt.getText(sf);
    body.push(text);
  });

  const code = [
    '(async () => {',
    ...hoistedImports,
    ...hoistedFunctions,
    ...body,
    `})()\n//# sourceURL=${cellName.replace(/\.ts$/, '.js')}`,
  ].join('\n');
  return { code, declared: [...new Set(declared)], imports };
}
