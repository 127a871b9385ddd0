/// <reference lib="dom" />
/**
 * The web UI's entry point (bundled by scripts/build-ui.mjs into dist/ui/app.js):
 * builds the panels over index.html, opens the live connection, and keeps
 * the views fresh: at once when the node reports an event, and every few
 * seconds in any case.
 */
import { createContext, UiClient } from './context.js';
import { byId, render } from './dom.js';
import { shortHex } from './format.js';
import { LiveConnection, liveUrl, type LiveState } from './live.js';
import { EventsPanel } from './panels/events.js';
import { GetPanel } from './panels/get.js';
import { IdentityPanel } from './panels/identity.js';
import { NetworkPanel } from './panels/network.js';
import { SetPanel } from './panels/set.js';
import { StoragePanel } from './panels/storage.js';
import { tokenStore } from './token.js';

const REFRESH_MS = 5000;
const EVENT_REFRESH_DELAY_MS = 300;

const announcer = byId('announcer', HTMLDivElement);
const announce = (message: string): void => {
  // Emptied first so that the same message twice is still read out.
  render(announcer);
  setTimeout(() => render(announcer, message), 60);
};

const client = new UiClient(location.origin);
const live = new LiveConnection(liveUrl(location));

const tokenButton = byId('token-button', HTMLButtonElement);
const tokenState = byId('token-state', HTMLSpanElement);
const showToken = (): void => {
  const held = tokenStore.get() !== undefined;
  render(tokenState, held ? 'Token kept for this session' : 'No token entered');
  tokenState.dataset.state = held ? 'set' : 'unset';
  tokenButton.textContent = held ? 'Forget token' : 'Enter token';
};

let refreshTimer: ReturnType<typeof setTimeout> | undefined;
const refreshSoon = (): void => {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void refresh(), EVENT_REFRESH_DELAY_MS);
};

const ui = createContext(client, live, announce, refreshSoon, showToken);
const identity = new IdentityPanel(ui);
const network = new NetworkPanel();
const setPanel = new SetPanel(ui);
const getPanel = new GetPanel(ui);
const storage = new StoragePanel(ui, (key) => getPanel.getByKey(key));
const events = new EventsPanel();

tokenButton.addEventListener('click', () => {
  if (tokenStore.get() !== undefined) {
    ui.forgetToken();
    announce('The token was forgotten.');
  } else void ui.token().then((token) => token !== undefined && announce('The token is kept for this session.'));
});
showToken();

const liveState = byId('live-state', HTMLSpanElement);
const LIVE_TEXT: Record<LiveState, string> = { open: 'Live: connected', connecting: 'Live: connecting…', closed: 'Live: not connected' };
live.onState((state) => {
  render(liveState, LIVE_TEXT[state]);
  liveState.dataset.state = state;
  events.showState(state);
});
live.subscribeEvents((event) => {
  events.add(event);
  refreshSoon();
});
live.start();

const nodeLabel = byId('node-label', HTMLSpanElement);
const problem = byId('connection-problem', HTMLParagraphElement);
let haveProfile = false;

const refresh = async (): Promise<void> => {
  try {
    const [status, table] = await Promise.all([client.status(), client.table()]);
    problem.hidden = true;
    render(nodeLabel, `node ${shortHex(status.node_id)}`);
    identity.showStatus(status);
    storage.setOwnPublicKey(status.public_key);
    network.show(table, Date.now());
    setPanel.setMaxDuplicate(table.k);
    getPanel.setOwnPublicKey(status.public_key);
    await storage.refresh();
    if (!haveProfile) {
      const profile = await client.profile();
      identity.showProfile(profile);
      haveProfile = profile.profile !== null;
    }
  } catch (error) {
    problem.hidden = false;
    render(problem, `Cannot reach the node: ${(error as Error).message}. Retrying every few seconds.`);
  }
};

const loop = async (): Promise<void> => {
  await refresh();
  setTimeout(() => void loop(), REFRESH_MS);
};
void loop();
