/**
 * A Python tokenizer just deep enough for finding calls and imports: strings of every form
 * (prefixes, triple quotes, f-strings with nested quotes as of Python 3.12), comments, bracket
 * depth, explicit and implicit line joining. It never throws: problems are returned with the
 * tokens, and the caller decides whether they matter.
 */

import { lineEndFrom } from './edits';

export type PyTokenKind = 'name' | 'number' | 'string' | 'op' | 'comment' | 'newline' | 'nl';

export interface PyToken {
  kind: PyTokenKind;
  start: number;
  end: number;
  /** Brackets open around the token; an opening bracket counts those outside it. */
  depth: number;
}

export interface PyProblem {
  offset: number;
  message: string;
}

export interface PyTokens {
  tokens: PyToken[];
  problems: PyProblem[];
}

const NAME = /[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*/uy;
const NUMBER =
  /(?:0[xXoObB][0-9a-fA-F_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?)/y;
const OPERATOR =
  /\*\*=|\/\/=|>>=|<<=|\.\.\.|->|:=|==|!=|<=|>=|\*\*|\/\/|<<|>>|[-+*/%@&|^<>]=|[-+*/%@&|^~<>=!.,:;()[\]{}]/y;
const STRING_PREFIX = /(?:[rR][bBfFtT]?|[bBfFtT][rR]?|[uU])?(?='|")/y;
const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

function lineBreakAt(text: string, pos: number): number {
  if (text[pos] === '\r') return text[pos + 1] === '\n' ? 2 : 1;
  return text[pos] === '\n' ? 1 : 0;
}

function matchAt(pattern: RegExp, text: string, pos: number): string | undefined {
  pattern.lastIndex = pos;
  return pattern.exec(text)?.[0];
}

export function tokenizePython(text: string): PyTokens {
  const tokens: PyToken[] = [];
  const problems: PyProblem[] = [];
  const open: { char: string; offset: number }[] = [];
  const push = (kind: PyTokenKind, start: number, end: number, depth = open.length) =>
    tokens.push({ kind, start, end, depth });
  // A byte-order mark is not part of the code.
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (pos < text.length) {
    const ch = text[pos];
    const lineBreak = lineBreakAt(text, pos);
    if (ch === ' ' || ch === '\t' || ch === '\f') {
      pos++;
    } else if (lineBreak > 0) {
      const last = tokens[tokens.length - 1];
      const logical = open.length === 0 && last !== undefined && !isLineEnd(last, tokens);
      push(logical ? 'newline' : 'nl', pos, pos + lineBreak);
      pos += lineBreak;
    } else if (ch === '\\' && lineBreakAt(text, pos + 1) > 0) {
      pos += 1 + lineBreakAt(text, pos + 1);
    } else if (ch === '#') {
      const end = lineEndFrom(text, pos);
      push('comment', pos, end);
      pos = end;
    } else if (matchAt(STRING_PREFIX, text, pos) !== undefined) {
      const prefix = matchAt(STRING_PREFIX, text, pos) as string;
      const end = scanString(text, pos + prefix.length, prefix, problems, 0);
      push('string', pos, end);
      pos = end;
    } else if (matchAt(NUMBER, text, pos)) {
      const end = pos + (matchAt(NUMBER, text, pos) as string).length;
      push('number', pos, end);
      pos = end;
    } else if (matchAt(NAME, text, pos)) {
      const end = pos + (matchAt(NAME, text, pos) as string).length;
      push('name', pos, end);
      pos = end;
    } else {
      const op = matchAt(OPERATOR, text, pos) ?? ch;
      if (op === '(' || op === '[' || op === '{') {
        push('op', pos, pos + 1);
        open.push({ char: op, offset: pos });
      } else if (CLOSERS[op]) {
        const opener = open.pop();
        if (opener?.char !== CLOSERS[op])
          problems.push({ offset: pos, message: `unmatched '${op}'` });
        push('op', pos, pos + 1);
      } else {
        if (!matchAt(OPERATOR, text, pos))
          problems.push({ offset: pos, message: `unexpected character '${ch}'` });
        push('op', pos, pos + op.length);
      }
      pos += op.length;
    }
  }
  for (const opener of open)
    problems.push({ offset: opener.offset, message: `'${opener.char}' is never closed` });
  const last = tokens[tokens.length - 1];
  if (last && !isLineEnd(last, tokens)) push('newline', text.length, text.length, 0);
  return { tokens, problems };
}

/** Whether the logical line before this point is already closed (or empty). */
function isLineEnd(last: PyToken, tokens: PyToken[]): boolean {
  if (last.kind === 'newline' || last.kind === 'nl') {
    return true;
  }
  if (last.kind !== 'comment') return false;
  const before = tokens[tokens.length - 2];
  return before === undefined || before.kind === 'newline' || before.kind === 'nl';
}

// Deeper f-string nesting than this is not real code; stopping keeps the recursion bounded.
const MAX_NESTING = 64;

/** End of the string whose opening quote is at `quoteAt`. */
function scanString(
  text: string,
  quoteAt: number,
  prefix: string,
  problems: PyProblem[],
  nesting: number,
): number {
  if (nesting > MAX_NESTING) {
    problems.push({ offset: quoteAt, message: 'f-strings nested too deeply' });
    return text.length;
  }
  const quote = text[quoteAt];
  const triple = text.startsWith(quote.repeat(3), quoteAt);
  const delimiter = triple ? quote.repeat(3) : quote;
  const formatted = /[fFtT]/.test(prefix);
  let pos = quoteAt + delimiter.length;
  while (pos < text.length) {
    const ch = text[pos];
    if (text.startsWith(delimiter, pos)) return pos + delimiter.length;
    if (ch === '\\') {
      pos += 1 + Math.max(1, lineBreakAt(text, pos + 1));
    } else if (!triple && lineBreakAt(text, pos) > 0) {
      break;
    } else if (formatted && ch === '{') {
      if (text[pos + 1] === '{') pos += 2;
      else pos = scanReplacementField(text, pos + 1, problems, nesting + 1);
    } else {
      pos++;
    }
  }
  problems.push({ offset: quoteAt, message: 'unterminated string' });
  return Math.min(pos, text.length);
}

/**
 * From just inside an f-string's `{` to just after its `}`: an expression (whose strings may
 * reuse the outer quote, as Python 3.12 allows), then an optional format spec that is literal
 * text except for nested `{...}` fields.
 */
function scanReplacementField(
  text: string,
  pos: number,
  problems: PyProblem[],
  nesting: number,
): number {
  if (nesting > MAX_NESTING) {
    problems.push({ offset: pos, message: 'f-strings nested too deeply' });
    return text.length;
  }
  let depth = 0;
  let inSpec = false;
  while (pos < text.length) {
    const ch = text[pos];
    if (inSpec) {
      if (ch === '}') return pos + 1;
      pos = ch === '{' ? scanReplacementField(text, pos + 1, problems, nesting + 1) : pos + 1;
      continue;
    }
    const prefix = matchAt(STRING_PREFIX, text, pos);
    if (prefix !== undefined && (prefix.length > 0 || ch === '"' || ch === "'")) {
      pos = scanString(text, pos + prefix.length, prefix, problems, nesting + 1);
    } else if (ch === '(' || ch === '[' || ch === '{') {
      depth++;
      pos++;
    } else if (ch === ')' || ch === ']' || (ch === '}' && depth > 0)) {
      depth--;
      pos++;
    } else if (ch === '}') {
      return pos + 1;
    } else if (ch === ':' && depth === 0) {
      inSpec = true;
      pos++;
    } else if (matchAt(NAME, text, pos)) {
      pos += (matchAt(NAME, text, pos) as string).length;
    } else {
      pos++;
    }
  }
  return pos;
}
