import * as vscode from 'vscode';
import { normalizationLines } from './normalization-lines';

export class NormalizationCodeLensProvider implements vscode.CodeLensProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    return normalizationLines(document.getText(), document.languageId, document.fileName).flatMap((line) => {
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
