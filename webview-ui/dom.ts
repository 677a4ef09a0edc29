/** A small element builder: the views build their DOM with it, never with innerHTML. */

type Child = Node | string | null | undefined | false;

export interface ElementProps {
  className?: string;
  id?: string;
  text?: string;
  /** Attributes set verbatim (aria-*, role, for, type, ...). */
  attrs?: Record<string, string>;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElementProps = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.className) element.className = props.className;
  if (props.id) element.id = props.id;
  if (props.text !== undefined) element.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) element.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
  return element;
}

/** A native button (keyboard and screen readers for free). */
export function button(label: string, onClick: () => void, className = ''): HTMLButtonElement {
  const b = el('button', { text: label, className, attrs: { type: 'button' } });
  b.addEventListener('click', onClick);
  return b;
}

/** "Nothing here yet" with what to do about it, and optionally a button that does it. */
export function emptyState(message: string, action?: HTMLButtonElement): HTMLElement {
  return el('section', { className: 'empty-state' }, el('p', { text: message }), action);
}

/** A failure shown to the user: the message as the host reported it. */
export function errorState(title: string, message: string | undefined): HTMLElement {
  return el(
    'section',
    { className: 'error-state', attrs: { role: 'alert' } },
    el('p', { className: 'error-title', text: title }),
    message ? el('pre', { className: 'error-message', text: message }) : null,
  );
}

/** Label/value pairs as a definition list (the run's settings, a summary). */
export function facts(rows: [string, string | undefined][], label: string): HTMLElement {
  const list = el('dl', { className: 'facts', attrs: { 'aria-label': label } });
  for (const [name, value] of rows) {
    if (value === undefined || value === '') continue;
    list.append(el('div', {}, el('dt', { text: name }), el('dd', { text: value })));
  }
  return list;
}

/** `parent.replaceChildren` that skips absent children (null, undefined, false). */
export function replaceContent(parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children.filter((c): c is Node | string => Boolean(c) || c === ''));
}
