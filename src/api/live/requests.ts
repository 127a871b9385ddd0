/**
 * Checks what a WebSocket client sends (docs/api.md, "WebSocket API") and
 * never throws: a message is a LiveRequest or a bad_request error naming the
 * field, with the message's id when it had a usable one. The rules of a set
 * message's body are PUT's (putItemBodySchema); hex and item limits are
 * checked later, as for HTTP.
 */
import { type ApiError, badRequest } from '../errors.js';
import type { LiveRequest, LiveRequestType } from '../types.js';

export const MAX_ID_CHARS = 128;

export type ParsedRequest = { readonly ok: true; readonly request: LiveRequest } | { readonly ok: false; readonly id: string | null; readonly error: ApiError };

/** The fields each type may carry besides id and type; `true` marks the required ones. */
const FIELDS: Readonly<Record<LiveRequestType, Readonly<Record<string, boolean>>>> = {
  auth: { token: true },
  get: { key: false, public_key: false, name: false, fresh: false },
  set: { name: true, value: true, value_type: false, expires: false, duplicate: false, meta: false },
  'subscribe-events': {},
  'unsubscribe-events': {},
  cancel: {},
};

const TYPES = Object.keys(FIELDS) as LiveRequestType[];
const VALUE_TYPES = ['json', 'text', 'bytes'];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks one field; returns a problem or nothing. */
const problemOf = (type: LiveRequestType, field: string, value: unknown, k: number): string | undefined => {
  const where = `${type}/${field}`;
  switch (field) {
    case 'token':
    case 'key':
    case 'public_key':
    case 'name':
      return typeof value === 'string' ? undefined : `${where} must be a string`;
    case 'fresh':
      return typeof value === 'boolean' ? undefined : `${where} must be a boolean`;
    case 'value':
      return undefined;
    case 'value_type':
      return VALUE_TYPES.includes(value as string) ? undefined : `${where} must be one of ${VALUE_TYPES.join(', ')}`;
    case 'expires':
      return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? undefined : `${where} must be a number >= 0 (seconds)`;
    case 'duplicate':
      return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= k ? undefined : `${where} must be an integer from 1 to ${k}`;
    case 'meta':
      return isObject(value) && Object.values(value).every((v) => typeof v === 'string') ? undefined : `${where} must be an object of strings`;
    default:
      return undefined;
  }
};

/** The first problem of a message of `type`, or undefined when it has none. */
const check = (message: Record<string, unknown>, type: LiveRequestType, k: number): string | undefined => {
  const fields = FIELDS[type];
  for (const [field, value] of Object.entries(message)) {
    if (field === 'id' || field === 'type') continue;
    if (!(field in fields)) return `${type}/${field} is not a field of ${type} (it takes ${Object.keys(fields).join(', ') || 'only id and type'})`;
    const problem = problemOf(type, field, value, k);
    if (problem) return problem;
  }
  for (const [field, required] of Object.entries(fields)) if (required && !(field in message)) return `${type} must have the field ${field}`;
  if (type === 'get') {
    const byKey = 'key' in message;
    const byName = 'public_key' in message && 'name' in message;
    if (byKey === byName || (!byName && ('public_key' in message || 'name' in message))) return 'get must have either key, or public_key and name';
  }
  return undefined;
};

/** Parses and checks one text message; `k` bounds a set's duplicate. */
export const parseLiveRequest = (text: string, k: number): ParsedRequest => {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (error) {
    return { ok: false, id: null, error: badRequest(`the message is not JSON: ${(error as Error).message}`) };
  }
  if (!isObject(message)) return { ok: false, id: null, error: badRequest('a message must be a JSON object with an id and a type') };
  const { id, type } = message;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_CHARS) {
    return { ok: false, id: null, error: badRequest(`a message must have an id: a string of 1 to ${MAX_ID_CHARS} characters`) };
  }
  if (typeof type !== 'string' || !TYPES.includes(type as LiveRequestType)) {
    return { ok: false, id, error: badRequest(`unknown message type ${JSON.stringify(type)}; the types are ${TYPES.join(', ')}`) };
  }
  const problem = check(message, type as LiveRequestType, k);
  if (problem) return { ok: false, id, error: badRequest(problem) };
  return { ok: true, request: message as unknown as LiveRequest };
};
