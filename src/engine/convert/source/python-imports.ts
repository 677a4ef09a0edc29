import { PyToken } from './python-tokens';

/** One logical line: its code tokens (no comments or soft line breaks) and where it ends. */
export interface PyLine {
  tokens: PyToken[];
  /** The first token starts a physical line: the statement is at module level. */
  topLevel: boolean;
  /** Just after the line's newline (the start of the next line, or the end of the text). */
  end: number;
  /** Whether the text had a line break there (false on a last line without one). */
  hasLineBreak: boolean;
}

export function logicalLines(text: string, tokens: readonly PyToken[]): PyLine[] {
  const lines: PyLine[] = [];
  let current: PyToken[] = [];
  for (const token of tokens) {
    if (token.kind === 'newline') {
      if (current.length > 0) {
        const first = current[0].start;
        const topLevel = first === 0 || /[\r\n\uFEFF]/.test(text[first - 1]);
        lines.push({
          tokens: current,
          topLevel,
          end: token.end,
          hasLineBreak: token.end > token.start,
        });
      }
      current = [];
    } else if (token.kind !== 'comment' && token.kind !== 'nl') {
      current.push(token);
    }
  }
  return lines;
}

/** A name an import statement binds, and the dotted path it stands for. */
export interface PyBinding {
  local: string;
  path: string;
}

export interface PyImport {
  line: PyLine;
  /** The statement's own tokens (a line may hold more statements after a `;`). */
  tokens: PyToken[];
  bindings: PyBinding[];
  /** Modules imported with `from m import *`. */
  stars: string[];
}

/** The import statements of the file at any depth (a `try:` or a function body binds too). */
export function readImports(text: string, lines: readonly PyLine[]): PyImport[] {
  const imports: PyImport[] = [];
  for (const line of lines) {
    for (const statement of splitStatements(text, line.tokens)) {
      const parsed = parseImport(text, statement);
      if (parsed) imports.push({ line, tokens: statement, ...parsed });
    }
  }
  return imports;
}

function splitStatements(text: string, tokens: readonly PyToken[]): PyToken[][] {
  const statements: PyToken[][] = [[]];
  for (const token of tokens) {
    if (token.kind === 'op' && text.slice(token.start, token.end) === ';') statements.push([]);
    else statements[statements.length - 1].push(token);
  }
  return statements.filter((s) => s.length > 0);
}

/** Reads `import a.b as c, d` and `from a.b import (c as d, e)`; undefined for anything else. */
function parseImport(
  text: string,
  tokens: readonly PyToken[],
): { bindings: PyBinding[]; stars: string[] } | undefined {
  const words = tokens.map((t) => text.slice(t.start, t.end));
  const at = (i: number) => words[i] ?? '';
  const isName = (i: number) => tokens[i]?.kind === 'name';
  const dotted = (i: number): [string, number] => {
    const parts: string[] = [];
    while (isName(i)) {
      parts.push(at(i));
      if (at(i + 1) !== '.') return [parts.join('.'), i + 1];
      i += 2;
    }
    return [parts.join('.'), i];
  };
  const bindings: PyBinding[] = [];
  if (at(0) === 'import') {
    let i = 1;
    while (i < words.length) {
      const [path, next] = dotted(i);
      if (!path) return undefined;
      i = next;
      if (at(i) === 'as' && isName(i + 1)) {
        bindings.push({ local: at(i + 1), path });
        i += 2;
      } else {
        const top = path.split('.')[0];
        bindings.push({ local: top, path: top });
      }
      if (at(i) !== ',') break;
      i++;
    }
    return { bindings, stars: [] };
  }
  if (at(0) !== 'from') return undefined;
  let i = 1;
  let relative = '';
  while (at(i) === '.' || at(i) === '...') relative += at(i++);
  const [module, next] = dotted(i);
  if (at(next) !== 'import') return undefined;
  const base = relative + module;
  if (at(next + 1) === '*') return { bindings, stars: [base] };
  for (i = next + 1; i < words.length; i++) {
    if (!isName(i)) continue;
    const name = at(i);
    if (at(i + 1) === 'as' && isName(i + 2)) {
      bindings.push({ local: at(i + 2), path: `${base}.${name}` });
      i += 2;
    } else {
      bindings.push({ local: name, path: `${base}.${name}` });
    }
  }
  return { bindings, stars: [] };
}

/** What local names stand for, from every import in the file. */
export class PyScope {
  private readonly paths = new Map<string, Set<string>>();
  private readonly stars: string[] = [];

  constructor(imports: readonly PyImport[]) {
    for (const entry of imports) {
      for (const { local, path } of entry.bindings) {
        const known = this.paths.get(local) ?? new Set<string>();
        known.add(path);
        this.paths.set(local, known);
      }
      this.stars.push(...entry.stars);
    }
  }

  /** Every dotted path `a.b.c` may stand for, given how `a` was imported. */
  resolve(names: readonly string[]): string[] {
    const [head, ...rest] = names;
    const tail = rest.length ? `.${rest.join('.')}` : '';
    const bases = [...(this.paths.get(head) ?? [])].map((p) => p + tail);
    if (rest.length === 0) bases.push(...this.stars.map((module) => `${module}.${head}`));
    return bases;
  }
}
