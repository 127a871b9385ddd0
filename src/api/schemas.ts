/**
 * JSON schemas for what requests carry; fastify validates against them before
 * a handler runs and answers 400 bad_request with the validation message.
 * Hex fields are plain strings here: handlers check them so the message can
 * say which parameter and what it expects. docs/openapi.json documents the same.
 */
const MAX_TIME_MS = Number.MAX_SAFE_INTEGER;

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

export const keyParamsSchema = {
  type: 'object',
  required: ['key'],
  properties: { key: { type: 'string' } },
} as const;

export const nameParamsSchema = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string' } },
} as const;

export const publicKeyParamsSchema = {
  type: 'object',
  required: ['public_key'],
  properties: { public_key: { type: 'string' } },
} as const;

export const itemQuerySchema = {
  type: 'object',
  required: ['public_key', 'name'],
  properties: { public_key: { type: 'string' }, name: { type: 'string' } },
} as const;

/** The body of PUT /api/v1/items/{name}; `k` bounds `duplicate`. */
export const putItemBodySchema = (k: number) =>
  ({
    type: 'object',
    required: ['value'],
    additionalProperties: false,
    properties: {
      value: {},
      value_type: { enum: ['json', 'text', 'bytes'] },
      expires: { type: 'number', minimum: 0 },
      duplicate: { type: 'integer', minimum: 1, maximum: k },
      meta: stringMap,
    },
  }) as const;

/** An item as POST /api/v1/items takes it: ItemJson, whose json and text fields are ignored. */
export const itemBodySchema = {
  type: 'object',
  required: ['key', 'value_type', 'value', 'timestamp', 'expires', 'created_with', 'public_key', 'name', 'meta', 'signature'],
  additionalProperties: false,
  properties: {
    key: { type: 'string' },
    value_type: { enum: ['bytes', 'json'] },
    value: { type: 'string' },
    json: {},
    text: { type: 'string' },
    timestamp: { type: 'integer', minimum: 0, maximum: MAX_TIME_MS },
    expires: { type: 'integer', minimum: 0, maximum: MAX_TIME_MS },
    created_with: { type: 'string' },
    public_key: { type: 'string' },
    name: { type: 'string' },
    meta: stringMap,
    signature: { type: 'string' },
  },
} as const;
