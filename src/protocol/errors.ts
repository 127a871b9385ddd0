/**
 * The protocol's error codes, carried by the Error message (docs/protocol.md).
 * Codes are stable: a test checks this table against the documentation.
 */
export const ErrorCode = {
  BadRequest: 1,
  UnknownRequest: 2,
  InternalError: 3,
  RequestTooBig: 4,
  UnsupportedProtocol: 5,
  UnverifiableProvenance: 6,
  KeyMismatch: 7,
  SupersededValue: 8,
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const ERROR_TITLES: Readonly<Record<ErrorCode, string>> = Object.freeze({
  1: 'Bad request',
  2: 'Unknown request',
  3: 'Internal error',
  4: 'Request too big',
  5: 'Unsupported protocol',
  6: 'Unverifiable provenance',
  7: 'Key mismatch',
  8: 'Superseded value',
});

export const isErrorCode = (n: unknown): n is ErrorCode => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 8;

/** A refusal with a protocol code and a message for people. */
export interface ProtocolError {
  readonly code: ErrorCode;
  readonly message: string;
}

export const protocolError = (code: ErrorCode, message: string): ProtocolError => ({ code, message });

export type Result<T, E = ProtocolError> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const fail = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });
