import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import type { ViewKind } from '../shared/protocol';
import { VIEWS } from './views';

/**
 * The only place that writes webview HTML. The page carries no data: the script posts `ready`
 * and receives the state by message, so nothing user-controlled ever lands in markup or an
 * inline script. Scripts run only with this render's nonce; styles and fonts only from the
 * extension's own files.
 */
export function renderWebviewHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  view: ViewKind,
): string {
  const nonce = randomBytes(16).toString('base64');
  const asset = (...segments: string[]): string =>
    webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...segments)).toString();
  const csp = [
    `default-src 'none'`,
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  const { title } = VIEWS[view];

  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${escapeAttribute(asset('media', 'webview.css'))}">
  <link rel="stylesheet" href="${escapeAttribute(asset('media', 'views.css'))}">
  <title>${escapeText(title)}</title>
</head>
<body data-view="${escapeAttribute(view)}">
  <main id="root" class="view"><p class="muted">Loading…</p></main>
  <script nonce="${nonce}" src="${escapeAttribute(asset('dist', 'webview.js'))}"></script>
</body>
</html>`;
}

/** Panel options: scripts on, local files only from the bundles and the media folder. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [
      vscode.Uri.joinPath(extensionUri, 'dist'),
      vscode.Uri.joinPath(extensionUri, 'media'),
    ],
  };
}

/** The tab icon of a view, drawn for light and dark themes. */
export function viewIcon(
  extensionUri: vscode.Uri,
  view: ViewKind,
): { light: vscode.Uri; dark: vscode.Uri } {
  const file = `${VIEWS[view].icon}.svg`;
  return {
    light: vscode.Uri.joinPath(extensionUri, 'media', 'icons', 'light', file),
    dark: vscode.Uri.joinPath(extensionUri, 'media', 'icons', 'dark', file),
  };
}

function escapeAttribute(value: string): string {
  return escapeText(value).replace(/"/g, '&quot;');
}

function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
