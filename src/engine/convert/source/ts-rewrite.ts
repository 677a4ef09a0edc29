import * as ts from 'typescript';
import { ArgumentRule, TFJS_ARGUMENTS, dropNote, unknownArgumentReason } from './argument-rules';
import { CallConversion, CallReport, assembleResult } from './assemble';
import { LineIndex, snippet } from './edits';
import { ListElement, dropListElements } from './list-removal';
import { collectBindings } from './ts-bindings';
import { FACTORY, factoryAccess } from './ts-import';
import {
  hasCommentsInside,
  isStackOverflow,
  parseScript,
  skipScriptLineComment,
} from './ts-program';
import { BatchNormReference, findScriptSites, nameTakenElsewhere } from './ts-sites';
import {
  NormalizationSite,
  SourceLanguage,
  SourceRewriteError,
  SourceRewriteResult,
} from './types';

const GLOBAL_TF =
  '`tf` is not imported here (the global of a <script> tag?); an import added to a classic ' +
  'script would break it, so load batchless next to TF.js and convert this call by hand';

/** Rewrites every `tf.layers.batchNormalization({...})` call of a TS/JS file it can check. */
export function rewriteScript(
  text: string,
  fileName: string,
  extension: string,
  language: SourceLanguage,
): SourceRewriteResult {
  try {
    return rewriteParsedScript(text, fileName, extension, language);
  } catch (error) {
    if (!isStackOverflow(error)) throw error;
    throw new SourceRewriteError(fileName, 'is nested too deeply for the TypeScript parser');
  }
}

function rewriteParsedScript(
  text: string,
  fileName: string,
  extension: string,
  language: SourceLanguage,
): SourceRewriteResult {
  const { sourceFile, checker, syntaxErrors } = parseScript(text, extension, language);
  const lines = new LineIndex(text);
  if (syntaxErrors.length > 0) {
    const first = syntaxErrors[0];
    const message = ts.flattenDiagnosticMessageText(first.messageText, ' ');
    throw new SourceRewriteError(
      fileName,
      `does not parse (${message}); fix the syntax before converting`,
      lines.at(first.start ?? 0),
    );
  }
  const bindings = collectBindings(sourceFile);
  const { batch } = findScriptSites(sourceFile, checker, bindings);
  if (batch.length === 0) return { language, edits: [], converted: [], unsupported: [] };

  const access = factoryAccess(sourceFile, bindings, extension);
  const clash =
    access.callee === FACTORY &&
    nameTakenElsewhere(sourceFile, checker, FACTORY, bindings.batchlessFactories);
  const conversions: CallConversion[] = [];
  const reports: CallReport[] = [];
  const report = (node: ts.Node, reason: string) =>
    reports.push({ start: node.getStart(sourceFile), end: node.end, reason });
  for (const site of batch) {
    const call = site.call;
    if (site.viaGlobal) {
      report(call ?? site.callee, GLOBAL_TF);
    } else if (!call) {
      report(
        site.callee,
        'batchNormalization is used here without being called; convert this use by hand',
      );
    } else if (clash) {
      report(
        call,
        `the file already declares another '${FACTORY}', so the converted call would not reach batchless's`,
      );
    } else {
      const conversion = convertCall(site, call, sourceFile, access.callee);
      if ('reason' in conversion) report(call, conversion.reason);
      else conversions.push(conversion);
    }
  }
  const addImport = access.importEdit && { edit: access.importEdit, text: access.importText ?? '' };
  return assembleResult(text, language, conversions, reports, addImport);
}

function convertCall(
  site: BatchNormReference,
  call: ts.CallExpression,
  sourceFile: ts.SourceFile,
  callee: string,
): CallConversion | { reason: string } {
  const span = { start: call.getStart(sourceFile), end: call.end };
  const calleeEdit = {
    start: site.callee.getStart(sourceFile),
    end: site.callee.end,
    newText: callee,
  };
  if (call.arguments.length === 0) return { ...span, edits: [calleeEdit], dropped: [], notes: [] };
  if (call.arguments.length > 1) {
    return {
      reason: `batchNormalization takes one argument object; this call passes ${call.arguments.length}`,
    };
  }
  const argument = call.arguments[0];
  if (!ts.isObjectLiteralExpression(argument)) {
    return {
      reason: `the arguments are not an object literal (${snippet(argument.getText(sourceFile))}), so they cannot be checked; convert this call by hand`,
    };
  }
  const reasons: string[] = [];
  const rules: ArgumentRule[] = [];
  for (const property of argument.properties) {
    const name = propertyName(property);
    const rule = name === undefined ? undefined : TFJS_ARGUMENTS.get(name);
    if (rule) rules.push(rule);
    else if (name !== undefined)
      reasons.push(unknownArgumentReason(name, 'tf.layers.batchNormalization'));
    else reasons.push(`the argument ${snippet(property.getText(sourceFile))} cannot be checked`);
  }
  if (reasons.length > 0) return { reason: reasons.join('; ') };

  const dropped: string[] = [];
  const notes: string[] = [];
  argument.properties.forEach((property, i) => {
    const rule = rules[i];
    if (rule.action !== 'drop') return;
    const name = propertyName(property) as string;
    dropped.push(name);
    notes.push(dropNote(name, propertyValueText(property, sourceFile), rule.note));
  });
  const drops = rules.map((rule) => rule.action === 'drop');
  const listEdits = dropListElements(sourceFile.text, listElements(argument, sourceFile), drops, {
    innerStart: argument.getStart(sourceFile) + 1,
    innerEnd: argument.end - 1,
    hasComments: hasCommentsInside(argument, sourceFile),
    skipLineComment: skipScriptLineComment,
  });
  return { ...span, edits: [calleeEdit, ...listEdits], dropped, notes };
}

/** The argument's name as the layer sees it; undefined for spreads and computed names. */
function propertyName(property: ts.ObjectLiteralElementLike): string | undefined {
  if (ts.isSpreadAssignment(property)) return undefined;
  const name = property.name;
  if (ts.isMethodDeclaration(property) || ts.isAccessor(property)) return undefined;
  if (
    ts.isIdentifier(name) ||
    ts.isStringLiteral(name) ||
    ts.isNoSubstitutionTemplateLiteral(name)
  ) {
    return name.text;
  }
  return undefined;
}

function propertyValueText(
  property: ts.ObjectLiteralElementLike,
  sourceFile: ts.SourceFile,
): string {
  if (ts.isPropertyAssignment(property)) return property.initializer.getText(sourceFile);
  return property.getText(sourceFile);
}

/** The properties with the comma after each, read from the parser's own token list. */
function listElements(
  object: ts.ObjectLiteralExpression,
  sourceFile: ts.SourceFile,
): ListElement[] {
  const syntaxList = object
    .getChildren(sourceFile)
    .find((c) => c.kind === ts.SyntaxKind.SyntaxList);
  const children = syntaxList?.getChildren(sourceFile) ?? [];
  const elements: ListElement[] = [];
  for (const child of children) {
    if (child.kind === ts.SyntaxKind.CommaToken) {
      const previous = elements[elements.length - 1];
      if (previous) previous.commaEnd = child.end;
    } else {
      elements.push({ start: child.getStart(sourceFile), end: child.end });
    }
  }
  return elements;
}

/** BN and batchless constructor calls of a TS/JS file; tolerant of syntax errors. */
export function scriptSites(
  text: string,
  extension: string,
  language: SourceLanguage,
): NormalizationSite[] {
  try {
    return parsedScriptSites(text, extension, language);
  } catch (error) {
    if (isStackOverflow(error)) return [];
    throw error;
  }
}

function parsedScriptSites(
  text: string,
  extension: string,
  language: SourceLanguage,
): NormalizationSite[] {
  const { sourceFile, checker } = parseScript(text, extension, language);
  const lines = new LineIndex(text);
  const sites = findScriptSites(sourceFile, checker, collectBindings(sourceFile));
  const site = (kind: 'batch' | 'batchless', call: ts.Expression, callee: ts.Expression) => {
    const start = call.getStart(sourceFile);
    return {
      kind,
      ...lines.at(start),
      range: { start, end: call.end },
      callee: callee.getText(sourceFile),
    };
  };
  const found: NormalizationSite[] = [
    ...sites.batch.flatMap((s) => (s.call ? [site('batch', s.call, s.callee)] : [])),
    ...sites.batchless.map((call) => site('batchless', call, call.expression)),
  ];
  return found.sort((p, q) => p.range.start - q.range.start);
}
