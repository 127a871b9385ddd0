/// <reference lib="dom" />
/**
 * The live event feed: what the node reports as it works (contacts added and
 * evicted, items stored and expired, blacklistings), newest first, from the
 * live connection. Fields are shown as text; long hex is shortened.
 */
import { byId, el, render } from '../dom.js';
import { clockTime, shortHex } from '../format.js';
import type { LiveState } from '../live.js';

const MAX_EVENTS = 200;
const HEX = /^[0-9a-f]{32,}$/i;

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const hex = (value: unknown): string => {
  const t = text(value) ?? '?';
  return HEX.test(t) ? shortHex(t) : t;
};

/** Any event, as `field value` pairs: for event types this page does not know yet. */
const generic = (event: Record<string, unknown>): string =>
  Object.entries(event)
    .filter(([name, value]) => name !== 'type' && ['string', 'number', 'boolean'].includes(typeof value))
    .map(([name, value]) => `${name} ${typeof value === 'string' && HEX.test(value) ? shortHex(value) : String(value)}`)
    .join(' · ');

/** One line about an event (docs/api.md, the WebSocket API's event feed). */
export const describeEvent = (event: Record<string, unknown>): string => {
  const node = `node ${hex(event.node_id)}`;
  const reason = text(event.reason) ? `: ${text(event.reason)}` : '';
  switch (event.type) {
    case 'contact-added':
      return `${node} at ${text(event.host)}:${String(event.port)}`;
    case 'contact-moved':
      return `${node} now at ${text(event.host)}:${String(event.port)}`;
    case 'contact-evicted':
      return node;
    case 'blacklisted':
      return `${node}${reason}`;
    case 'item-stored': {
      const name = text(event.name) === '' ? '(empty name)' : text(event.name) === text(event.public_key) ? 'a whoami profile' : `“${text(event.name)}”`;
      return `${name} by ${hex(event.public_key)}${event.refreshed === true ? ' (refreshed)' : ''} · key ${hex(event.key)}`;
    }
    case 'item-refused':
      return `key ${hex(event.key)}${reason} (code ${String(event.code)})`;
    case 'item-expired':
      return `key ${hex(event.key)}`;
    case 'item-dropped':
      return `key ${hex(event.key)}${reason}`;
    case 'message-dropped':
      return text(event.reason) ?? '';
    case 'events-dropped':
      return `${String(event.count)} events were not sent while this page was not reading`;
    default:
      return generic(event);
  }
};

export class EventsPanel {
  private readonly feed = byId('event-feed', HTMLOListElement);
  private readonly status = byId('event-status', HTMLParagraphElement);
  private readonly pause = byId('event-pause', HTMLButtonElement);
  private paused = false;
  private count = 0;

  constructor() {
    this.pause.addEventListener('click', () => {
      this.paused = !this.paused;
      this.pause.setAttribute('aria-pressed', String(this.paused));
      this.pause.textContent = this.paused ? 'Resume' : 'Pause';
    });
    byId('event-clear', HTMLButtonElement).addEventListener('click', () => {
      render(this.feed);
      this.count = 0;
    });
  }

  showState(state: LiveState): void {
    const text: Record<LiveState, string> = {
      open: 'Live: events appear as the node reports them.',
      connecting: 'Connecting to the node’s live feed…',
      closed: 'The live feed is not connected; retrying. (It needs the node’s WebSocket API at /api/v1/ws.)',
    };
    render(this.status, text[state]);
  }

  add(event: Record<string, unknown>): void {
    if (this.paused) return;
    const type = typeof event.type === 'string' ? event.type : 'event';
    this.feed.prepend(
      el(
        'li',
        { class: `event ${type}`, attrs: { 'data-type': type } },
        el('time', { text: clockTime(Date.now()), attrs: { datetime: new Date().toISOString() } }),
        el('span', { class: 'kind', text: type }),
        el('span', { class: 'what', text: describeEvent(event) }),
      ),
    );
    if (++this.count > MAX_EVENTS) {
      this.feed.lastElementChild?.remove();
      this.count--;
    }
  }
}
