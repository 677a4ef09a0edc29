/** Pieces every view's page shares: the heading row, the status line, the action row. */
import { buttonLabel, type ViewCommand } from '../commands';
import { button, el } from '../dom';
import type { ViewContext } from './view';

export type StatusTone = 'info' | 'running' | 'ok' | 'warning' | 'error';

/** The view's title with optional badges beside it. */
export function viewHeader(title: string, ...badges: (HTMLElement | null)[]): HTMLElement {
  return el('header', { className: 'view-header' }, el('h1', { text: title }), ...badges);
}

/** A live status line; screen readers announce its changes politely. */
export function statusLine(): HTMLElement {
  return el('p', { className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
}

export function setStatus(element: HTMLElement, tone: StatusTone, text: string): void {
  element.className = `status status-${tone}`;
  element.textContent = text;
}

/** A button that asks the host to run one of the extension's commands. */
export function commandButton(
  ctx: ViewContext,
  command: ViewCommand,
  className = '',
): HTMLButtonElement {
  return button(buttonLabel(command), () => ctx.post({ type: 'command', command }), className);
}

/** A row of controls above the charts. */
export function toolbar(...children: (HTMLElement | null)[]): HTMLElement {
  return el('div', { className: 'toolbar' }, ...children);
}
