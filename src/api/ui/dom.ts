/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The UI's whole rendering layer: elements built with text nodes and
 * attributes, never from HTML strings, so nothing an item or a peer sends can
 * become markup. There is no innerHTML anywhere in src/api/ui.
 */

type Child = Node | string | number | null | undefined | false;

export interface Props {
  readonly class?: string;
  readonly text?: string;
  /** Attributes, aria-* and data-* included; undefined or false leaves one out, true sets it empty. */
  readonly attrs?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly on?: { readonly [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
}

export const el = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] => {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [type, listener] of Object.entries(props.on ?? {})) node.addEventListener(type, listener as EventListener);
  if (props.text !== undefined) node.textContent = props.text;
  append(node, ...children);
  return node;
};

export const append = (parent: Node, ...children: Child[]): void => {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
};

/** Replaces every child of `parent`. */
export const render = (parent: Element, ...children: Child[]): void => {
  parent.replaceChildren();
  append(parent, ...children);
};

/** The element with this id, of this type; a missing one is a bug in index.html. */
export const byId = <T extends HTMLElement>(id: string, type: new () => T): T => {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`index.html has no <${type.name}> with id "${id}"`);
  return found;
};

/** A definition list from [term, description] pairs. */
export const definitions = (pairs: ReadonlyArray<readonly [string, Child]>, className = 'facts'): HTMLDListElement =>
  el('dl', { class: className }, ...pairs.flatMap(([term, value]) => [el('dt', { text: term }), el('dd', {}, value)]));
