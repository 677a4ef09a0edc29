import {
  ArgumentRule,
  KERAS_ARGUMENTS,
  KERAS_POSITIONAL,
  dropNote,
  unknownArgumentReason,
} from './argument-rules';
import { CallConversion, CallReport, assembleResult } from './assemble';
import { LineIndex, lineEndFrom, snippet } from './edits';
import { dropListElements } from './list-removal';
import { PyCall, PyReference, findReferences } from './python-calls';
import { PyScope, logicalLines, readImports } from './python-imports';
import { importPlan } from './python-import-plan';
import { tokenizePython } from './python-tokens';
import { NormalizationSite, SourceEdit, SourceRewriteError, SourceRewriteResult } from './types';

const BATCH_NORM_PATHS = new Set([
  'keras.layers.BatchNormalization',
  'tensorflow.keras.layers.BatchNormalization',
  'tf_keras.layers.BatchNormalization',
]);
const BATCHLESS_PATHS = new Set(['batchless_keras.BatchlessNormalization']);
const LAYER = 'keras.layers.BatchNormalization';

/** Tokens, imports and the uses of both layers, resolved through the file's imports. */
function analyse(text: string) {
  const { tokens, problems } = tokenizePython(text);
  const lines = logicalLines(text, tokens);
  const imports = readImports(text, lines);
  const importTokens = new Set(imports.flatMap((entry) => entry.tokens));
  const scope = new PyScope(imports);
  const resolvesTo = (paths: Set<string>) => (names: string[]) =>
    scope.resolve(names).some((path) => paths.has(path));
  return {
    tokens,
    problems,
    lines,
    imports,
    batch: findReferences(text, tokens, importTokens, resolvesTo(BATCH_NORM_PATHS)),
    batchless: findReferences(text, tokens, importTokens, resolvesTo(BATCHLESS_PATHS)),
  };
}

/** Rewrites every Keras `BatchNormalization(...)` call of a Python file it can check. */
export function rewritePython(text: string, fileName: string): SourceRewriteResult {
  const parsed = analyse(text);
  const index = new LineIndex(text);
  if (parsed.problems.length > 0) {
    const first = parsed.problems[0];
    throw new SourceRewriteError(
      fileName,
      `does not tokenize (${first.message}); fix the syntax before converting`,
      index.at(first.offset),
    );
  }
  if (parsed.batch.length === 0)
    return { language: 'python', edits: [], converted: [], unsupported: [] };
  const firstCall = parsed.batch.find((r) => r.call)?.start ?? text.length;
  const plan = importPlan(text, parsed.tokens, parsed.lines, parsed.imports, firstCall);
  const conversions: CallConversion[] = [];
  const reports: CallReport[] = [];
  for (const reference of parsed.batch) {
    const call = reference.call;
    if (!call) {
      reports.push({
        ...reference,
        reason: 'BatchNormalization is used here without being called; convert this use by hand',
      });
      continue;
    }
    const span = { start: reference.start, end: call.close.end };
    const conversion = plan.clash
      ? { reason: plan.clash }
      : convertCall(text, reference, call, plan.callee);
    if ('reason' in conversion) reports.push({ ...span, reason: conversion.reason });
    else conversions.push({ ...span, ...conversion });
  }
  const addImport = plan.importEdit && { edit: plan.importEdit, text: plan.importText ?? '' };
  return assembleResult(text, 'python', conversions, reports, addImport);
}

type Conversion = { edits: SourceEdit[]; dropped: string[]; notes: string[] } | { reason: string };

function convertCall(
  text: string,
  reference: PyReference,
  call: PyCall,
  callee: string,
): Conversion {
  const edits: SourceEdit[] = [{ start: reference.start, end: reference.end, newText: callee }];
  const reasons: string[] = [];
  const drops: boolean[] = [];
  const dropped: string[] = [];
  const notes: string[] = [];
  call.arguments.forEach((argument, position) => {
    const value = text.slice(argument.valueStart, argument.end);
    if (argument.kind === 'double-star' || argument.kind === 'star') {
      reasons.push(`arguments unpacked from ${snippet(value)} cannot be checked`);
      return;
    }
    let name = argument.name;
    if (argument.kind === 'positional') {
      name = KERAS_POSITIONAL[position];
      if (name === undefined) {
        reasons.push(
          `positional argument ${position + 1} (${snippet(value)}) means different things in Keras 2 and 3`,
        );
        return;
      }
    }
    const rule: ArgumentRule | undefined = KERAS_ARGUMENTS.get(name as string);
    if (!rule) {
      reasons.push(unknownArgumentReason(name as string, LAYER));
      return;
    }
    drops.push(rule.action === 'drop');
    if (rule.action === 'drop') {
      dropped.push(name as string);
      notes.push(dropNote(name as string, value, rule.note));
      return;
    }
    const note = rule.note?.(value);
    if (note) notes.push(`${name} (${snippet(value)}) kept: ${note}.`);
    if (argument.kind === 'positional') {
      edits.push({ start: argument.start, end: argument.start, newText: `${name}=` });
      notes.push(
        `${name} (${snippet(value)}) is passed by name, so it does not depend on BatchlessNormalization's argument order.`,
      );
    }
  });
  if (reasons.length > 0) return { reason: reasons.join('; ') };
  edits.push(
    ...dropListElements(text, call.arguments, drops, {
      innerStart: call.open.end,
      innerEnd: call.close.start,
      hasComments: call.hasComments,
      skipLineComment: (source, pos) => (source[pos] === '#' ? lineEndFrom(source, pos) : pos),
    }),
  );
  return { edits, dropped, notes };
}

/** BN and batchless constructor calls of a Python file; tolerant of syntax errors. */
export function pythonSites(text: string): NormalizationSite[] {
  const parsed = analyse(text);
  const index = new LineIndex(text);
  const site = (kind: 'batch' | 'batchless', reference: PyReference): NormalizationSite[] => {
    if (!reference.call) return [];
    const range = { start: reference.start, end: reference.call.close.end };
    return [
      { kind, ...index.at(range.start), range, callee: text.slice(reference.start, reference.end) },
    ];
  };
  return [
    ...parsed.batch.flatMap((r) => site('batch', r)),
    ...parsed.batchless.flatMap((r) => site('batchless', r)),
  ].sort((p, q) => p.range.start - q.range.start);
}
