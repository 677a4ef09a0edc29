import { PyToken } from './python-tokens';

/** A dotted name such as `tf.keras.layers.BatchNormalization`, and the call if one follows. */
export interface PyReference {
  names: string[];
  start: number;
  end: number;
  call?: PyCall;
}

export interface PyCall {
  /** The opening and closing parentheses. */
  open: PyToken;
  close: PyToken;
  arguments: PyArgument[];
  hasComments: boolean;
}

export interface PyArgument {
  kind: 'positional' | 'keyword' | 'star' | 'double-star';
  /** The keyword, for keyword arguments. */
  name?: string;
  start: number;
  end: number;
  /** Where the value starts (after `name=` for keyword arguments). */
  valueStart: number;
  commaEnd?: number;
}

const NOT_REFERENCES = new Set(['def', 'class', 'import', 'from', 'as', 'global', 'nonlocal']);

/**
 * Dotted names outside import statements that `accept` wants, with their calls parsed. Names
 * being defined or assigned to (`def X`, `X = ...`, keyword names `f(X=...)`) are not uses.
 */
export function findReferences(
  text: string,
  tokens: readonly PyToken[],
  importTokens: ReadonlySet<PyToken>,
  accept: (names: string[]) => boolean,
): PyReference[] {
  const code = tokens.filter((t) => t.kind !== 'comment' && t.kind !== 'nl');
  const word = (t: PyToken | undefined) => (t ? text.slice(t.start, t.end) : '');
  const references: PyReference[] = [];
  for (let i = 0; i < code.length; i++) {
    const first = code[i];
    if (first.kind !== 'name' || importTokens.has(first)) continue;
    const before = word(code[i - 1]);
    if (before === '.' || NOT_REFERENCES.has(before)) continue;
    const names = [word(first)];
    let j = i + 1;
    while (word(code[j]) === '.' && code[j + 1]?.kind === 'name') {
      names.push(word(code[j + 1]));
      j += 2;
    }
    const last = code[j - 1];
    i = j - 1;
    if (word(code[j]) === '=' || !accept(names)) continue;
    const reference: PyReference = { names, start: first.start, end: last.end };
    if (word(code[j]) === '(') reference.call = parseCall(text, tokens, code[j]);
    references.push(reference);
  }
  return references;
}

/** The arguments between `open` and its matching parenthesis; undefined if it never closes. */
function parseCall(text: string, tokens: readonly PyToken[], open: PyToken): PyCall | undefined {
  const from = tokens.indexOf(open);
  const argDepth = open.depth + 1;
  const args: PyArgument[] = [];
  let hasComments = false;
  // A lambda's parameter commas (`lambda a, b: ...`) do not separate arguments.
  let inLambdaParameters = false;
  let current: PyToken[] = [];
  const finish = (comma?: PyToken) => {
    if (current.length > 0) args.push(readArgument(text, current, comma));
    current = [];
  };
  for (let k = from + 1; k < tokens.length; k++) {
    const token = tokens[k];
    const word = text.slice(token.start, token.end);
    if (token.kind === 'comment') hasComments = true;
    if (token.kind === 'comment' || token.kind === 'nl' || token.kind === 'newline') continue;
    if (token.depth === open.depth && word === ')') {
      finish();
      return { open, close: token, arguments: args, hasComments };
    }
    if (token.depth < argDepth) return undefined;
    if (token.depth === argDepth && token.kind === 'name' && word === 'lambda') {
      inLambdaParameters = true;
    }
    if (token.depth === argDepth && word === ':') inLambdaParameters = false;
    if (token.depth === argDepth && word === ',' && !inLambdaParameters) finish(token);
    else current.push(token);
  }
  return undefined;
}

function readArgument(text: string, tokens: PyToken[], comma?: PyToken): PyArgument {
  const word = (i: number) => (tokens[i] ? text.slice(tokens[i].start, tokens[i].end) : '');
  const start = tokens[0].start;
  const end = tokens[tokens.length - 1].end;
  const commaEnd = comma?.end;
  if (word(0) === '**') return { kind: 'double-star', start, end, valueStart: start, commaEnd };
  if (word(0) === '*') return { kind: 'star', start, end, valueStart: start, commaEnd };
  if (tokens[0].kind === 'name' && word(1) === '=' && tokens.length > 2) {
    return { kind: 'keyword', name: word(0), start, end, valueStart: tokens[2].start, commaEnd };
  }
  return { kind: 'positional', start, end, valueStart: start, commaEnd };
}
