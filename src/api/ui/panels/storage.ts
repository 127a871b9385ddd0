/// <reference lib="dom" />
/**
 * Storage: the items this node holds (name, publisher, size, expiry, last
 * read, a plain-text preview), searched on the node as the user types.
 */
import type { UiContext } from '../context.js';
import type { HeldItemJson, ItemsHeldJson } from '../data-types.js';
import { byId, el, render } from '../dom.js';
import { formatBytes, formatExpiry, formatRelative, shortHex } from '../format.js';

const LIMIT = 200;
const SEARCH_DELAY_MS = 250;

/** A profile is named by its publisher's public key: say what it is rather than repeat 64 hex digits. */
const nameCell = (item: HeldItemJson): HTMLElement => {
  if (item.name === '') return el('span', { class: 'muted', text: '(empty name)' });
  if (item.name === item.public_key) return el('span', { class: 'muted', text: 'whoami profile', attrs: { title: item.name } });
  return el('span', { class: 'name', text: item.name });
};

export class StoragePanel {
  private readonly search = byId('storage-search', HTMLInputElement);
  private readonly summary = byId('storage-summary', HTMLParagraphElement);
  private readonly list = byId('storage-list', HTMLDivElement);
  private timer: ReturnType<typeof setTimeout> | undefined;
  private shown = '';
  private ownPublicKey = '';

  constructor(
    private readonly ui: UiContext,
    private readonly onGet: (key: string) => void,
  ) {
    this.search.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.refresh(), SEARCH_DELAY_MS);
    });
    byId('storage-form', HTMLFormElement).addEventListener('submit', (event) => {
      event.preventDefault();
      void this.refresh();
    });
  }

  setOwnPublicKey(publicKey: string): void {
    this.ownPublicKey = publicKey;
  }

  async refresh(): Promise<void> {
    const query = this.search.value;
    let held: ItemsHeldJson;
    try {
      held = await this.ui.client.itemsHeld(query, LIMIT);
    } catch (error) {
      render(this.summary, `Could not read the items held: ${(error as Error).message}`);
      return;
    }
    if (query !== this.search.value) return; // a newer search is on its way
    const nowMs = Date.now();
    const signature = JSON.stringify([held, Math.floor(nowMs / 10_000)]);
    if (signature === this.shown) return;
    this.shown = signature;
    const shown = held.items.length < held.matched ? `, showing the ${held.items.length} stored most recently` : '';
    render(this.summary, query.trim() ? `${held.matched} of ${held.total} items match “${query.trim()}”${shown}.` : `${held.total} items held${shown}.`);
    if (held.items.length === 0) {
      render(this.list);
      return;
    }
    // Keep keyboard focus on the same row's button across a refresh.
    const focusedKey = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.key : undefined;
    render(
      this.list,
      el(
        'table',
        { class: 'data items' },
        el('caption', { class: 'visually-hidden', text: 'Items this node holds' }),
        el('thead', {}, el('tr', {}, ...['Name', 'Publisher', 'Size', 'Expires', 'Last read', 'Preview', ''].map((h) => el('th', { text: h, attrs: { scope: 'col' } })))),
        el('tbody', {}, ...held.items.map((item) => this.row(item, nowMs))),
      ),
    );
    if (focusedKey) this.list.querySelector<HTMLElement>(`button[data-key="${focusedKey}"]`)?.focus();
  }

  private row(item: HeldItemJson, nowMs: number): HTMLTableRowElement {
    const publisher = item.public_key === this.ownPublicKey ? 'this node' : shortHex(item.public_key);
    return el(
      'tr',
      { attrs: { 'data-key': item.key } },
      el('td', {}, nameCell(item)),
      el('td', {}, el('code', { class: 'hex', text: publisher, attrs: { title: item.public_key } })),
      el('td', { text: `${formatBytes(item.size_bytes)} ${item.value_type}` }),
      el('td', { text: formatExpiry(item.expires, nowMs) }),
      el('td', { text: formatRelative(item.last_read, nowMs) }),
      el('td', { class: 'preview' }, item.preview === null ? el('span', { class: 'muted', text: '(binary)' }) : el('span', { text: item.preview })),
      el(
        'td',
        {},
        el('button', {
          text: 'Get',
          attrs: { type: 'button', 'data-key': item.key, 'aria-label': `Get ${item.name || 'the item'} by its key` },
          on: { click: () => this.onGet(item.key) },
        }),
      ),
    );
  }
}
