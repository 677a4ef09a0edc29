import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LayerInspection } from '../shared/inspection';

type Node = { kind: 'model'; model: string } | { kind: 'layer'; layer: LayerInspection };

/**
 * The normalization layers of the last inspected model, in the Explorer. Selecting a layer shows
 * it in the statistics view (the view's layer picker follows).
 */
export class LayerTreeProvider implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private model?: string;
  private layers: LayerInspection[] = [];

  setLayers(model: string, layers: LayerInspection[]): void {
    this.model = model;
    this.layers = layers;
    this.changed.fire();
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'model') {
      const item = new vscode.TreeItem(
        node.model.startsWith('builtin:') ? node.model : path.basename(node.model),
        vscode.TreeItemCollapsibleState.Expanded,
      );
      item.description = `${this.layers.length} normalization layer(s)`;
      item.tooltip = node.model;
      item.iconPath = new vscode.ThemeIcon('symbol-class');
      return item;
    }
    const l = node.layer;
    const item = new vscode.TreeItem(l.layer, vscode.TreeItemCollapsibleState.None);
    const channels = l.mean.length;
    item.description = `${l.kind === 'batch' ? 'BatchNormalization' : 'Batchless'} · ${channels} channel${channels === 1 ? '' : 's'}`;
    item.tooltip = new vscode.MarkdownString(
      `**${l.layer}** (${l.kind})\n\nmean of ${l.kind === 'batch' ? 'moving' : 'learned'} σ: ${mean(l.std).toFixed(3)}${l.observed ? `; observed: ${mean(l.observed.std).toFixed(3)}` : ''}`,
    );
    item.iconPath = new vscode.ThemeIcon(
      l.kind === 'batch' ? 'symbol-variable' : 'symbol-constant',
    );
    item.command = {
      command: 'batchless.selectLayer',
      title: 'Show in Learned Statistics',
      arguments: [l.layer],
    };
    return item;
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.model ? [{ kind: 'model', model: this.model }] : [];
    if (node.kind === 'model') return this.layers.map((layer) => ({ kind: 'layer', layer }));
    return [];
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}
