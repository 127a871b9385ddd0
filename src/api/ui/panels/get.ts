/// <reference lib="dom" />
/**
 * Get: an item by public key and name, or by key. Over the live connection
 * the lookup is shown as it runs; the item is then checked here (verify.ts)
 * before it is shown. Without a live connection it falls back to HTTP, with
 * no lookup to show.
 */
import { ApiError } from '../../client.js';
import type { ItemJson } from '../../types.js';
import type { UiContext } from '../context.js';
import { byId, el, render } from '../dom.js';
import { LiveError } from '../live.js';
import { itemKeyHex, verifyItem } from '../verify.js';
import { itemView } from './item-view.js';
import { LookupView } from './lookup-view.js';

const PUBLIC_KEY = /^[0-9a-fA-F]{64}$/;
const KEY = /^[0-9a-fA-F]{128}$/;

export class GetPanel {
  private readonly form = byId('get-form', HTMLFormElement);
  private readonly byName = byId('get-by-name', HTMLInputElement);
  private readonly byKey = byId('get-by-key', HTMLInputElement);
  private readonly nameFields = byId('get-name-fields', HTMLDivElement);
  private readonly keyFields = byId('get-key-fields', HTMLDivElement);
  private readonly publicKey = byId('get-public-key', HTMLInputElement);
  private readonly name = byId('get-name', HTMLInputElement);
  private readonly key = byId('get-key', HTMLInputElement);
  private readonly fresh = byId('get-fresh', HTMLInputElement);
  private readonly submit = byId('get-submit', HTMLButtonElement);
  private readonly error = byId('get-error', HTMLParagraphElement);
  private readonly lookupBox = byId('get-lookup', HTMLDivElement);
  private readonly result = byId('get-result', HTMLDivElement);
  private running = false;
  private ownPublicKey = '';

  constructor(private readonly ui: UiContext) {
    byId('get-own-key', HTMLButtonElement).addEventListener('click', () => {
      this.publicKey.value = this.ownPublicKey;
      this.publicKey.focus();
    });
    const sync = (): void => {
      this.nameFields.hidden = !this.byName.checked;
      this.keyFields.hidden = this.byName.checked;
    };
    this.byName.addEventListener('change', sync);
    this.byKey.addEventListener('change', sync);
    sync();
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.run();
    });
  }

  setOwnPublicKey(publicKey: string): void {
    this.ownPublicKey = publicKey;
  }

  /** Fills the form with a key and runs the get (the storage panel's Get buttons). */
  getByKey(key: string): void {
    this.byKey.checked = true;
    this.byKey.dispatchEvent(new Event('change'));
    this.key.value = key;
    this.form.scrollIntoView({ block: 'start' });
    this.key.focus();
    void this.run();
  }

  private invalid(input: HTMLInputElement, message: string): void {
    input.setAttribute('aria-invalid', 'true');
    render(this.error, message);
    input.focus();
  }

  private async run(): Promise<void> {
    if (this.running) return;
    for (const input of [this.publicKey, this.key]) input.removeAttribute('aria-invalid');
    render(this.error);
    const byName = this.byName.checked;
    const publicKey = this.publicKey.value.trim().toLowerCase();
    const name = this.name.value;
    const key = this.key.value.trim().toLowerCase();
    if (byName && !PUBLIC_KEY.test(publicKey)) return this.invalid(this.publicKey, 'A public key is 64 hex characters (0–9, a–f).');
    if (!byName && !KEY.test(key)) return this.invalid(this.key, 'A key is 128 hex characters (0–9, a–f).');

    this.running = true;
    this.submit.disabled = true;
    render(this.result);
    const target = byName ? await itemKeyHex(publicKey, name) : key;
    const summary = el('p', { class: 'lookup-summary', attrs: { id: 'get-lookup-summary', role: 'status' } });
    const chart = el('div', { class: 'chart' });
    const list = el('ol', { class: 'lookup-events', attrs: { id: 'get-lookup-events', 'aria-label': 'Lookup events' } });
    render(this.lookupBox, summary, chart, list);
    const view = new LookupView(summary, chart, list, target);
    try {
      const found = this.ui.live.state === 'open' ? await this.viaLive(byName ? { public_key: publicKey, name } : { key }, view) : await this.viaHttp(byName, publicKey, name, key, view);
      if (!found) {
        view.finish('Not found.');
        render(this.result, el('p', { class: 'notice', attrs: { 'data-outcome': 'not-found' }, text: 'No node has this item.' }));
        this.ui.announce('The item was not found.');
        return;
      }
      view.finish(found.source === 'local' ? 'Found in this node’s own copy.' : 'Found.');
      const provenance = await verifyItem(found.item);
      render(this.result, itemView(found.item, provenance, found.source, Date.now()));
      this.ui.announce(provenance.verified ? 'Found the item; its signature verified.' : 'Found the item, but it did not verify.');
    } catch (error) {
      view.finish('Failed.');
      render(this.error, `The get failed: ${(error as Error).message}`);
    } finally {
      this.running = false;
      this.submit.disabled = false;
    }
  }

  private async viaLive(query: Record<string, string>, view: LookupView): Promise<{ item: ItemJson; source: string } | undefined> {
    try {
      const final = await this.ui.live.request({ type: 'get', ...query, fresh: this.fresh.checked }, (message) => {
        if (message.type === 'lookup') view.add(message);
      });
      if (final.type !== 'item') return undefined;
      return { item: final.item as ItemJson, source: typeof final.source === 'string' ? final.source : 'network' };
    } catch (error) {
      if (error instanceof LiveError && error.code === 'not_found') return undefined;
      throw error;
    }
  }

  private async viaHttp(byName: boolean, publicKey: string, name: string, key: string, view: LookupView): Promise<{ item: ItemJson; source: string } | undefined> {
    view.unavailable('The live connection is down, so the lookup cannot be shown: asked over HTTP.');
    const fresh = this.fresh.checked;
    try {
      const item = byName ? await this.ui.client.getItemByName(publicKey, name, { fresh }) : await this.ui.client.getItem(key, { fresh });
      return { item, source: 'the node, over HTTP' };
    } catch (error) {
      if (error instanceof ApiError && error.code === 'not_found') return undefined;
      throw error;
    }
  }
}
