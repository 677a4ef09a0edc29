import * as vscode from 'vscode';

/**
 * Where normalization layers are constructed, found line by line. This only places lenses (it
 * runs on every edit in the extension host, so it must stay cheap and never load the engine);
 * the conversion itself parses the file properly in the engine worker and reports anything it
 * leaves alone.
 */
const PATTERNS: { languages: string[]; pattern: RegExp; comment: RegExp }[] = [
  {
    languages: ['typescript', 'javascript', 'typescriptreact', 'javascriptreact'],
    pattern: /\b(?:\w+\.)*batchNormalization\s*\(/,
    comment: /^\s*(\/\/|\*|\/\*)/,
  },
  { languages: ['python'], pattern: /\b(?:\w+\.)*BatchNormalization\s*\(/, comment: /^\s*#/ },
  { languages: ['json'], pattern: /"class_name"\s*:\s*"BatchNormalization"/, comment: /^$/ },
];

export function normalizationLines(document: vscode.TextDocument): number[] {
  const rule = PATTERNS.find((p) => p.languages.includes(document.languageId));
  if (!rule) return [];
  if (document.languageId === 'json' && !/model\.json$|\.json$/.test(document.fileName)) return [];
  const lines: number[] = [];
  const limit = Math.min(document.lineCount, 20_000);
  for (let i = 0; i < limit; i++) {
    const text = document.lineAt(i).text;
    if (rule.pattern.test(text) && !rule.comment.test(text)) lines.push(i);
  }
  return lines;
}

export class NormalizationCodeLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    return normalizationLines(document).flatMap((line) => {
      const range = new vscode.Range(line, 0, line, 0);
      return [
        new vscode.CodeLens(range, {
          title: 'Convert to batchless',
          command: 'batchless.convertModel',
          arguments: [document.uri],
          tooltip: 'Rewrite batch normalization as batchless normalization (preview first)',
        }),
        ...(document.languageId === 'json'
          ? [
              new vscode.CodeLens(range, {
                title: 'Inspect',
                command: 'batchless.inspectStatistics',
                arguments: [document.uri],
                tooltip: 'Compare the layer statistics with the activations observed on data',
              }),
            ]
          : []),
      ];
    });
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export const CODELENS_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', language: 'typescript' },
  { scheme: 'file', language: 'javascript' },
  { scheme: 'file', language: 'typescriptreact' },
  { scheme: 'file', language: 'javascriptreact' },
  { scheme: 'file', language: 'python' },
  { scheme: 'file', language: 'json', pattern: '**/*model*.json' },
];
