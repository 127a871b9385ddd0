/// <reference lib="dom" />
/**
 * Identity: this node's public key and node id (with copy buttons), version,
 * DHT port and counts, and the whoami profile it publishes.
 */
import type { StatusJson } from '../../types.js';
import type { UiContext } from '../context.js';
import type { ProfileJson } from '../data-types.js';
import { byId, definitions, el, render } from '../dom.js';

const copyButton = (ui: UiContext, label: string, value: string): HTMLButtonElement =>
  el('button', {
    class: 'copy',
    text: 'Copy',
    attrs: { type: 'button', 'aria-label': `Copy the ${label}` },
    on: {
      click: () => {
        void copyText(value).then(
          (ok) => ui.announce(ok ? `The ${label} was copied.` : `Could not copy the ${label}: select it and copy it by hand.`),
        );
      },
    },
  });

const copyText = async (text: string): Promise<boolean> => {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
};

const longValue = (ui: UiContext, label: string, value: string): HTMLElement =>
  el('span', { class: 'long-value' }, el('code', { class: 'hex', text: value }), copyButton(ui, label, value));

export class IdentityPanel {
  private readonly facts = byId('identity-facts', HTMLDivElement);
  private readonly profileBox = byId('identity-profile', HTMLDivElement);
  private shownKey = '';

  constructor(private readonly ui: UiContext) {}

  showStatus(status: StatusJson): void {
    const key = JSON.stringify(status);
    if (key === this.shownKey) return;
    this.shownKey = key;
    render(
      this.facts,
      definitions([
        ['Public key', longValue(this.ui, 'public key', status.public_key)],
        ['Node id', longValue(this.ui, 'node id', status.node_id)],
        ['Version', status.version],
        ['DHT port', String(status.port)],
        ['API', location.origin],
        ['Contacts', String(status.peers)],
        ['Items held', String(status.items)],
      ]),
    );
  }

  showProfile(profile: ProfileJson): void {
    const entries = Object.entries(profile.profile ?? {});
    if (entries.length === 0) {
      render(this.profileBox, el('p', { class: 'muted', text: 'This node publishes no whoami profile.' }));
      return;
    }
    render(this.profileBox, definitions(entries.map(([name, value]) => [name, value] as const)));
  }
}
