// The only way the webview makes elements: text goes in as textContent, never as markup, so a
// name such as `<img src=x onerror=alert(1)>` from the cluster shows as those characters.

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K];
export function el(tag: string, text?: string, className?: string): HTMLElement;
export function el(tag: string, text?: string, className?: string): HTMLElement {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

/** A codicon from the codicon stylesheet (linked with id `vscode-codicon-stylesheet`). */
export function codicon(name: string, label?: string): HTMLElement {
  const e = el('span', undefined, `codicon codicon-${name}`);
  if (label === undefined) e.setAttribute('aria-hidden', 'true');
  else {
    e.setAttribute('role', 'img');
    e.setAttribute('aria-label', label);
  }
  return e;
}

export function attrs<T extends Element>(e: T, values: Record<string, string | number | boolean | undefined>): T {
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === false) e.removeAttribute(k);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  return e;
}
