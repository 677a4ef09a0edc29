import * as ts from 'typescript';

const TFJS_MODULES = new Set([
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@tensorflow/tfjs-layers',
]);

function isBatchlessModule(name: string): boolean {
  return name === 'batchless' || name.startsWith('batchless/');
}

/** What the file's imports and requires bind, by declaration node. */
export interface ScriptBindings {
  /** Names bound to a whole TF.js module (`import * as tf`, `const tf = require(...)`). */
  tfjsModules: Set<ts.Declaration>;
  /** Names bound to its `layers` namespace (`import { layers as L }`, `const { layers }`). */
  tfjsLayers: Set<ts.Declaration>;
  batchlessModules: Set<ts.Declaration>;
  batchlessFactories: Set<ts.Declaration>;
  batchlessClasses: Set<ts.Declaration>;
  /** Top-level import or require statements, in order: where a new import goes. */
  importStatements: ts.Statement[];
  usesImportSyntax: boolean;
  usesRequire: boolean;
}

/** The module name if `node` is `require('name')`. */
export function requiredModule(node: ts.Node | undefined): string | undefined {
  if (!node || !ts.isCallExpression(node) || node.arguments.length !== 1) return undefined;
  const [argument] = node.arguments;
  if (!ts.isIdentifier(node.expression) || node.expression.text !== 'require') return undefined;
  return ts.isStringLiteralLike(argument) ? argument.text : undefined;
}

export function collectBindings(sourceFile: ts.SourceFile): ScriptBindings {
  const bindings: ScriptBindings = {
    tfjsModules: new Set(),
    tfjsLayers: new Set(),
    batchlessModules: new Set(),
    batchlessFactories: new Set(),
    batchlessClasses: new Set(),
    importStatements: [],
    usesImportSyntax: false,
    usesRequire: false,
  };

  const bindModule = (module: string, declaration: ts.Declaration): void => {
    if (TFJS_MODULES.has(module)) bindings.tfjsModules.add(declaration);
    if (isBatchlessModule(module)) bindings.batchlessModules.add(declaration);
  };
  const bindMember = (module: string, member: string, declaration: ts.Declaration): void => {
    if (TFJS_MODULES.has(module) && member === 'layers') bindings.tfjsLayers.add(declaration);
    if (!isBatchlessModule(module)) return;
    if (member === 'batchlessNormalization') bindings.batchlessFactories.add(declaration);
    if (member === 'BatchlessNormalization') bindings.batchlessClasses.add(declaration);
  };

  for (const statement of sourceFile.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      bindings.usesImportSyntax = true;
      bindings.importStatements.push(statement);
      const module = statement.moduleSpecifier.text;
      const clause = statement.importClause;
      if (clause?.name) bindModule(module, clause);
      const named = clause?.namedBindings;
      if (named && ts.isNamespaceImport(named)) bindModule(module, named);
      if (named && ts.isNamedImports(named)) {
        for (const spec of named.elements) {
          bindMember(module, (spec.propertyName ?? spec.name).text, spec);
        }
      }
    } else if (
      ts.isImportEqualsDeclaration(statement) &&
      ts.isExternalModuleReference(statement.moduleReference) &&
      ts.isStringLiteral(statement.moduleReference.expression)
    ) {
      bindings.usesImportSyntax = true;
      bindings.importStatements.push(statement);
      bindModule(statement.moduleReference.expression.text, statement);
    } else if (isRequireStatement(statement)) {
      bindings.importStatements.push(statement);
    }
  }

  const visit = (node: ts.Node): void => {
    const module = requiredModule(node);
    if (module !== undefined) {
      bindings.usesRequire = true;
      const parent = node.parent;
      if (ts.isVariableDeclaration(parent) && parent.initializer === node) {
        bindRequire(parent, module, bindModule, bindMember);
      }
    }
    if (ts.isExportDeclaration(node) || ts.isExportAssignment(node))
      bindings.usesImportSyntax = true;
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return bindings;
}

function bindRequire(
  declaration: ts.VariableDeclaration,
  module: string,
  bindModule: (module: string, declaration: ts.Declaration) => void,
  bindMember: (module: string, member: string, declaration: ts.Declaration) => void,
): void {
  if (ts.isIdentifier(declaration.name)) {
    bindModule(module, declaration);
    return;
  }
  if (!ts.isObjectBindingPattern(declaration.name)) return;
  for (const element of declaration.name.elements) {
    const key = element.propertyName ?? element.name;
    if (element.dotDotDotToken || !ts.isIdentifier(key) || !ts.isIdentifier(element.name)) continue;
    bindMember(module, key.text, element);
  }
}

/** `const x = require('m');`, `const { a } = require('m');` or a bare `require('m');`. */
function isRequireStatement(statement: ts.Statement): boolean {
  if (ts.isExpressionStatement(statement))
    return requiredModule(statement.expression) !== undefined;
  if (!ts.isVariableStatement(statement)) return false;
  const declarations = statement.declarationList.declarations;
  return declarations.length > 0 && declarations.every((d) => requiredModule(d.initializer));
}
