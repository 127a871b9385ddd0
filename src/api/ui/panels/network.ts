/// <reference lib="dom" />
/**
 * Network: the routing table as a picture (one row per bucket, by the bits its
 * ids share with ours; K places each for contacts and for the replacement
 * cache), the peer list and the blacklist. Each place shows the bits that
 * contact shares with this node; the counts are text for screen readers.
 */
import type { BucketJson, TableContactJson, TableJson } from '../data-types.js';
import { el, byId, render } from '../dom.js';
import { formatRelative, plural, shortHex } from '../format.js';

const contactTitle = (c: TableContactJson, role: string): string =>
  `${role} ${c.node_id}\n${c.host}:${c.port} · shares ${c.shared_prefix_bits} bits with this node · ${plural(c.failures, 'failure')}`;

const slots = (contacts: readonly TableContactJson[], k: number, kind: 'contact' | 'replacement'): HTMLElement => {
  const row = el('span', { class: `slots ${kind}s`, attrs: { 'aria-hidden': 'true' } });
  for (let i = 0; i < k; i++) {
    const c = contacts[i];
    if (!c) row.append(el('span', { class: 'slot empty' }));
    else {
      const health = c.failures > 0 ? ' failing' : '';
      row.append(el('span', { class: `slot ${kind}${health}`, text: String(c.shared_prefix_bits), attrs: { title: contactTitle(c, kind === 'contact' ? 'contact' : 'waiting') } }));
    }
  }
  return row;
};

const bucketLabel = (b: BucketJson): string => (b.covers_own_id ? `${b.prefix_bits}+ bits` : `${b.prefix_bits} bits`);

const bucketRow = (b: BucketJson, k: number, nowMs: number): HTMLTableRowElement =>
  el(
    'tr',
    { attrs: { 'data-bucket': b.index } },
    el('th', { attrs: { scope: 'row' } }, el('span', { class: 'bucket-name', text: `Bucket ${b.index}` }), el('span', { class: 'muted', text: ` shares ${bucketLabel(b)}` })),
    el('td', {}, slots(b.contacts, k, 'contact'), el('span', { class: 'count', text: `${b.contacts.length} of ${k}` })),
    el('td', {}, slots(b.replacements, k, 'replacement'), el('span', { class: 'count', text: `${b.replacements.length} waiting` })),
    el('td', { class: 'muted', text: formatRelative(b.last_touched, nowMs) }),
  );

export class NetworkPanel {
  private readonly picture = byId('table-picture', HTMLDivElement);
  private readonly summary = byId('table-summary', HTMLParagraphElement);
  private readonly peers = byId('peer-list', HTMLDivElement);
  private readonly blacklist = byId('blacklist', HTMLDivElement);

  show(table: TableJson, nowMs: number): void {
    const replacements = table.buckets.reduce((n, b) => n + b.replacements.length, 0);
    render(
      this.summary,
      `${plural(table.size, 'contact')} in ${plural(table.buckets.length, 'bucket')} of up to ${table.k}; ${replacements} waiting in replacement caches; ${table.blacklist.length} blacklisted.`,
    );
    render(
      this.picture,
      el(
        'table',
        { class: 'buckets', attrs: { 'data-contacts': table.size } },
        el('caption', { text: 'Buckets by the bits their ids share with this node. Each filled place is a contact; the number in it is the bits it shares.' }),
        el('thead', {}, el('tr', {}, ...['Bucket', 'Contacts', 'Replacement cache', 'Last lookup'].map((h) => el('th', { text: h, attrs: { scope: 'col' } })))),
        el('tbody', {}, ...[...table.buckets].reverse().map((b) => bucketRow(b, table.k, nowMs))),
      ),
    );
    this.showPeers(table, nowMs);
    render(
      this.blacklist,
      table.blacklist.length === 0
        ? el('p', { class: 'muted', text: 'No node is blacklisted.' })
        : el('ul', { class: 'plain' }, ...table.blacklist.map((id) => el('li', {}, el('code', { class: 'hex', text: id, attrs: { title: id } })))),
    );
  }

  private showPeers(table: TableJson, nowMs: number): void {
    const contacts = table.buckets.flatMap((b) => b.contacts);
    if (contacts.length === 0) {
      render(this.peers, el('p', { class: 'muted', text: 'No contacts yet: this node has not met any peer.' }));
      return;
    }
    render(
      this.peers,
      el(
        'table',
        { class: 'data' },
        el('caption', { class: 'visually-hidden', text: 'Peers in the routing table' }),
        el('thead', {}, el('tr', {}, ...['Node id', 'Address', 'Last seen', 'Failures', 'Round trip'].map((h) => el('th', { text: h, attrs: { scope: 'col' } })))),
        el(
          'tbody',
          {},
          ...contacts.map((c) =>
            el(
              'tr',
              {},
              el('td', {}, el('code', { class: 'hex', text: shortHex(c.node_id, 16), attrs: { title: c.node_id } })),
              el('td', { text: `${c.host}:${c.port}` }),
              el('td', { text: formatRelative(c.last_seen, nowMs) }),
              el('td', { class: c.failures > 0 ? 'warn' : '', text: String(c.failures) }),
              el('td', { text: c.rtt_ms === null ? '—' : `${c.rtt_ms.toFixed(1)} ms` }),
            ),
          ),
        ),
      ),
    );
  }
}
