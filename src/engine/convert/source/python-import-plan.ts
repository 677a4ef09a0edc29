import { newlineOf } from './edits';
import { PyImport, PyLine } from './python-imports';
import { PyToken } from './python-tokens';
import { SourceEdit } from './types';

const CLASS_NAME = 'BatchlessNormalization';
const MODULE = 'batchless_keras';
export const BATCHLESS_IMPORT = `from ${MODULE} import ${CLASS_NAME}`;

/** How converted calls name the class, and the import that makes the name exist. */
export interface PyImportPlan {
  callee: string;
  importEdit?: SourceEdit;
  importText?: string;
  /** Why bare `BatchlessNormalization` would not reach the class, if it would not. */
  clash?: string;
}

/**
 * Reuses a module-level import of the class or of `batchless_keras` when there is one.
 * Otherwise the import goes after the last module-level import that ends before the first call
 * (so module-level code can use it), which also keeps `from __future__` imports first; with no
 * such import, after the module docstring, or else before the first statement.
 */
export function importPlan(
  text: string,
  tokens: readonly PyToken[],
  lines: readonly PyLine[],
  imports: readonly PyImport[],
  firstCall: number,
): PyImportPlan {
  const topLevel = imports.filter((entry) => entry.line.topLevel);
  for (const { bindings } of topLevel) {
    const direct = bindings.find((b) => b.path === `${MODULE}.${CLASS_NAME}`);
    if (direct) return { callee: direct.local };
    const module = bindings.find((b) => b.path === MODULE);
    if (module) return { callee: `${module.local}.${CLASS_NAME}` };
  }
  const clash = nameClash(text, tokens, lines, imports);
  if (clash) return { callee: CLASS_NAME, clash };

  const newline = newlineOf(text);
  const before = topLevel.filter((entry) => entry.line.end <= firstCall);
  const anchor = before.at(-1)?.line ?? docstring(lines);
  if (anchor) {
    const newText = anchor.hasLineBreak ? BATCHLESS_IMPORT + newline : newline + BATCHLESS_IMPORT;
    return {
      callee: CLASS_NAME,
      importText: BATCHLESS_IMPORT,
      importEdit: { start: anchor.end, end: anchor.end, newText },
    };
  }
  const start = lines[0]?.tokens[0].start ?? 0;
  return {
    callee: CLASS_NAME,
    importText: BATCHLESS_IMPORT,
    importEdit: { start, end: start, newText: BATCHLESS_IMPORT + newline },
  };
}

function docstring(lines: readonly PyLine[]): PyLine | undefined {
  const first = lines[0];
  if (!first?.topLevel) return undefined;
  return first.tokens.every((t) => t.kind === 'string') ? first : undefined;
}

/** Another definition of the name: a different import, a `def`/`class`, an assignment. */
function nameClash(
  text: string,
  tokens: readonly PyToken[],
  lines: readonly PyLine[],
  imports: readonly PyImport[],
): string | undefined {
  const other = imports
    .flatMap((entry) => entry.bindings)
    .find((b) => b.local === CLASS_NAME && b.path !== `${MODULE}.${CLASS_NAME}`);
  if (other)
    return `the file imports another ${CLASS_NAME} (${other.path}), so the converted call would not reach batchless_keras's`;
  const word = (t: PyToken | undefined) => (t ? text.slice(t.start, t.end) : '');
  const defined = tokens.some(
    (t, i) =>
      word(t) === CLASS_NAME && (word(tokens[i - 1]) === 'def' || word(tokens[i - 1]) === 'class'),
  );
  const assigned = lines.some((l) => word(l.tokens[0]) === CLASS_NAME && word(l.tokens[1]) === '=');
  if (defined || assigned)
    return `the file defines its own ${CLASS_NAME}, so the converted call would not reach batchless_keras's`;
  return undefined;
}
