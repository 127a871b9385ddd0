/// <reference lib="dom" />
/**
 * What every panel of the UI is given: the typed HTTP client, the live
 * WebSocket connection, the status line for screen readers, and the
 * token, asked for once and kept for the session.
 */
import { DrogulusClient } from '../client.js';
import type { ItemsHeldJson, ProfileJson, TableJson } from './data-types.js';
import type { LiveConnection } from './live.js';
import { askToken, tokenStore } from './token.js';

/** The HTTP client plus the UI's own read-only routes (docs/api.md, "The web UI"). */
export class UiClient extends DrogulusClient {
  constructor(private readonly origin: string) {
    super({ baseUrl: origin });
  }

  /** A client that sends the token, for one write. */
  withToken(token: string): DrogulusClient {
    return new DrogulusClient({ baseUrl: this.origin, token });
  }

  table(): Promise<TableJson> {
    return this.getJson('/api/v1/table');
  }

  itemsHeld(search: string, limit: number): Promise<ItemsHeldJson> {
    return this.getJson(`/api/v1/items-held?${new URLSearchParams({ search, limit: String(limit) })}`);
  }

  profile(): Promise<ProfileJson> {
    return this.getJson('/api/v1/profile');
  }

  private async getJson<T>(path: string): Promise<T> {
    const response = await fetch(`${this.origin}${path}`, { headers: { accept: 'application/json' } });
    const body = (await response.json()) as T & { error?: { message?: string } };
    if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
    return body;
  }
}

export interface UiContext {
  readonly client: UiClient;
  readonly live: LiveConnection;
  /** Says `message` in the page's polite status region. */
  announce(message: string): void;
  /** The stored token, or asks for it (once per session); undefined when the user cancels. */
  token(reason?: string): Promise<string | undefined>;
  /** Forgets a token the node refused. */
  forgetToken(): void;
  /** Panels call this when they changed the node's state (a write), so the others refresh. */
  changed(): void;
}

export const createContext = (client: UiClient, live: LiveConnection, announce: (message: string) => void, changed: () => void, onToken: () => void): UiContext => {
  const check = async (token: string): Promise<string | undefined> => {
    // Over the live connection the node says at once whether the token is right; over HTTP the first write will.
    if (live.state !== 'open') return undefined;
    try {
      await live.authenticate(token);
      return undefined;
    } catch (error) {
      return `The node refused this token: ${(error as Error).message}`;
    }
  };
  return {
    client,
    live,
    announce,
    changed,
    async token(reason) {
      const held = tokenStore.get();
      if (held !== undefined) return held;
      const token = await askToken(check, reason);
      onToken();
      return token;
    },
    forgetToken() {
      tokenStore.clear();
      live.forgetToken();
      onToken();
    },
  };
};
