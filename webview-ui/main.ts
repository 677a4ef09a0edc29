// Placeholder webview entry: the views' own scripts replace it. It already follows the webview
// handshake (post `ready`, then wait for one full state) so a panel can be wired against it.
interface WebviewApi {
  postMessage(message: unknown): void;
}

declare function acquireVsCodeApi(): WebviewApi;

const host = acquireVsCodeApi();

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const root = document.getElementById('root');
  if (root) root.textContent = JSON.stringify(event.data);
});

host.postMessage({ type: 'ready' });
