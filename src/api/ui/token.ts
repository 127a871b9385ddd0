/// <reference lib="dom" />
/**
 * The API token writes need: asked once in a modal dialog and kept in
 * sessionStorage, so it lasts while the tab is open and is gone when it closes.
 * It is never put in a URL, a cookie or localStorage.
 */
import { byId, render } from './dom.js';

const STORAGE_KEY = 'drogulus.api-token';
const TOKEN_FORM = /^[!-~]{1,512}$/;

/** sessionStorage, or memory where the browser refuses storage. */
class TokenStore {
  private memory: string | undefined;

  get(): string | undefined {
    try {
      return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
    } catch {
      return this.memory;
    }
  }

  set(token: string): void {
    this.memory = token;
    try {
      sessionStorage.setItem(STORAGE_KEY, token);
    } catch {
      // Storage is disabled: the token lives in memory until the page is left.
    }
  }

  clear(): void {
    this.memory = undefined;
    try {
      sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // Nothing was stored.
    }
  }
}

export const tokenStore = new TokenStore();

/** Checks a token with the node: resolves to an error message, or undefined when it is accepted. */
export type TokenCheck = (token: string) => Promise<string | undefined>;

/**
 * Shows the token dialog until a token passes `check` or the user cancels;
 * resolves with the stored token, or undefined when cancelled.
 */
export const askToken = (check: TokenCheck, reason?: string): Promise<string | undefined> => {
  const dialog = byId('token-dialog', HTMLDialogElement);
  const form = byId('token-form', HTMLFormElement);
  const input = byId('token-input', HTMLInputElement);
  const error = byId('token-error', HTMLParagraphElement);
  const why = byId('token-reason', HTMLParagraphElement);
  const cancel = byId('token-cancel', HTMLButtonElement);

  render(why, reason ?? 'Writes are signed with this node’s key, so they need its API token.');
  render(error);
  input.value = '';
  input.removeAttribute('aria-invalid');

  return new Promise((resolve) => {
    const finish = (token: string | undefined): void => {
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      if (dialog.open) dialog.close();
      resolve(token);
    };
    const fail = (message: string): void => {
      render(error, message);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    };
    const onSubmit = (event: SubmitEvent): void => {
      event.preventDefault();
      const token = input.value.trim();
      if (!TOKEN_FORM.test(token)) {
        fail('Enter the token: the contents of the api-token file, without spaces.');
        return;
      }
      render(error, 'Checking…');
      void check(token).then((problem) => {
        if (problem) fail(problem);
        else {
          tokenStore.set(token);
          finish(token);
        }
      });
    };
    const onCancel = (event: Event): void => {
      event.preventDefault();
      finish(undefined);
    };
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    input.focus();
  });
};
