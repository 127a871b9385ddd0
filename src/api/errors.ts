/**
 * The API's error codes, each with its HTTP status (the table in docs/api.md;
 * a test checks the two agree), and ApiError, which the server throws and the
 * client rethrows. Every error body is {error: {code, message, ...}}.
 * No Node built-ins here: the client imports this file in browsers.
 */
import { ErrorCode } from '../protocol/errors.js';
import type { ErrorBody, ErrorJson } from './types.js';

export const API_ERRORS = Object.freeze({
  bad_request: 400,
  unauthorized: 401,
  /** A write or WebSocket upgrade from a web page of another origin. */
  forbidden_origin: 403,
  not_found: 404,
  superseded: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** The Host header names another server: a DNS rebinding attempt, or a missing allowedHosts entry. */
  forbidden_host: 421,
  invalid_item: 422,
  unverifiable_provenance: 422,
  key_mismatch: 422,
  /** GET /api/v1/ws without a WebSocket upgrade. */
  upgrade_required: 426,
  /** The rate limit of requests without the token; Retry-After says when to try again. */
  too_many_requests: 429,
  /** WebSocket only: more operations running on one connection than it may run at once. */
  too_many_operations: 429,
  internal: 500,
  replication_failed: 502,
  unavailable: 503,
  /** The WebSocket API has as many connections as it takes. */
  too_many_connections: 503,
  /** Client only: the request never got an answer. */
  unreachable: 0,
  /** Client only: the answer was not the JSON the API sends. */
  unexpected_response: 0,
});

export type ApiErrorCode = keyof typeof API_ERRORS;

export interface ApiErrorOptions {
  readonly protocolCode?: number;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
}

export class ApiError extends Error {
  readonly protocolCode: number | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    /** The HTTP status; 0 when there was no HTTP answer. */
    readonly status: number,
    /** One of API_ERRORS' codes (a newer server may send others). */
    readonly code: string,
    message: string,
    options: ApiErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.protocolCode = options.protocolCode;
    this.details = options.details;
  }

  static of(code: ApiErrorCode, message: string, options: ApiErrorOptions = {}): ApiError {
    return new ApiError(API_ERRORS[code], code, message, options);
  }

  toJSON(): ErrorBody {
    const error: ErrorJson = {
      code: this.code,
      message: this.message,
      ...(this.protocolCode === undefined ? {} : { protocol_code: this.protocolCode }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
    return { error };
  }
}

/** The API error for an item the protocol refuses with `protocolCode`. */
export const fromProtocolError = (protocolCode: number, message: string, details?: Readonly<Record<string, unknown>>): ApiError => {
  const options = { protocolCode, details };
  switch (protocolCode) {
    case ErrorCode.UnverifiableProvenance:
      return ApiError.of('unverifiable_provenance', message, options);
    case ErrorCode.KeyMismatch:
      return ApiError.of('key_mismatch', message, options);
    case ErrorCode.SupersededValue:
      return ApiError.of('superseded', message, options);
    case ErrorCode.RequestTooBig:
      return ApiError.of('payload_too_large', message, options);
    case ErrorCode.BadRequest:
      return ApiError.of('invalid_item', message, options);
    default:
      return ApiError.of('internal', message, options);
  }
};

/** What a 500 says: the cause goes to the log, never to the client. */
export const internalError = (): ApiError => ApiError.of('internal', 'internal error: the node could not complete this request (the cause is in its log)');

export const badRequest = (message: string, protocolCode?: number): ApiError => ApiError.of('bad_request', message, { protocolCode });

export const isErrorBody = (body: unknown): body is ErrorBody => {
  if (typeof body !== 'object' || body === null) return false;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === 'string' && typeof message === 'string';
};
