/**
 * How a write answers: one JSON body (201, or an error), or, when the request
 * accepts application/x-ndjson, a 200 stream of progress events whose last
 * line is the outcome with the status the JSON answer would have had. An
 * item no node stored is a failure: 409 when every replica holds a newer
 * version, otherwise 502 (docs/api.md, "Writes").
 */
import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ItemRefusedError, type ReplicaOutcome, type ReplicateOptions, type ReplicateReport } from '../dht/node.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiError, badRequest, fromProtocolError, internalError } from './errors.js';
import type { ReplicaJson, ReplicationEvent, ReplicationJson } from './types.js';

export const NDJSON = 'application/x-ndjson';

export const replicaToJson = (outcome: ReplicaOutcome): ReplicaJson => {
  switch (outcome.status) {
    case 'stored':
      return { peer: outcome.peer, status: 'stored' };
    case 'refused':
      return { peer: outcome.peer, status: 'refused', code: outcome.code, message: outcome.message };
    case 'failed':
      return { peer: outcome.peer, status: 'failed', message: outcome.reason };
  }
};

const reportToJson = (report: ReplicateReport): ReplicationJson => ({
  key: report.key,
  stored: report.stored,
  attempted: report.attempted,
  replicas: report.replicas.map(replicaToJson),
});

/** The answer for a finished replication: the report, or why nothing was stored. */
export const replicationOutcome = (report: ReplicateReport): ReplicationJson => {
  const json = reportToJson(report);
  if (report.stored > 0) return json;
  const details = { ...json };
  const allSuperseded = report.replicas.length > 0 && report.replicas.every((r) => r.status === 'refused' && r.code === ErrorCode.SupersededValue);
  if (allSuperseded) throw fromProtocolError(ErrorCode.SupersededValue, `every replica asked (${report.attempted}) holds a newer version of item ${report.key}`, details);
  throw ApiError.of('replication_failed', `no node stored item ${report.key} (${report.attempted} asked; see details.replicas)`, { details });
};

/** Node errors from a replication, as API errors; anything else stays as it is (a 500). */
export const asApiError = (error: unknown): unknown => {
  if (error instanceof ItemRefusedError) return fromProtocolError(error.code, error.message);
  if (error instanceof RangeError) return badRequest(error.message);
  return error;
};

export interface Replication {
  readonly run: (options: ReplicateOptions) => Promise<ReplicateReport>;
}

/** Runs a replication and answers with its outcome, as JSON or as a progress stream. */
export const replyWithReplication = async (request: FastifyRequest, reply: FastifyReply, replication: Replication): Promise<FastifyReply> => {
  if (!acceptsNdjson(request.headers.accept)) {
    let json: ReplicationJson;
    try {
      json = replicationOutcome(await replication.run({}));
    } catch (error) {
      throw asApiError(error);
    }
    return reply.code(201).header('location', `/api/v1/items/${json.key}`).send(json);
  }

  const stream = new PassThrough();
  // A client that goes away destroys the stream; the replication still finishes.
  stream.on('error', () => undefined);
  const write = (event: ReplicationEvent): void => {
    if (!stream.destroyed) stream.write(`${JSON.stringify(event)}\n`);
  };
  reply.code(200).type(NDJSON).header('cache-control', 'no-store').send(stream);
  try {
    const report = await replication.run({
      // The node says how many replicas it asks (an anomalous cluster next to the key adds to the count), before the first.
      onLookupDone: (replicas) => write({ type: 'lookup-done', replicas }),
      onReplica: (replica) => write({ type: 'replica', ...replicaToJson(replica) }),
    });
    write({ type: 'result', status: 201, result: replicationOutcome(report) });
  } catch (error) {
    const failure = asApiError(error);
    if (!(failure instanceof ApiError)) request.log.error({ err: failure }, 'replication failed');
    const answer = failure instanceof ApiError ? failure : internalError();
    write({ type: 'error', status: answer.status, error: answer.toJSON().error });
  }
  stream.end();
  return reply;
};

const acceptsNdjson = (accept: string | undefined): boolean =>
  accept !== undefined && accept.split(',').some((range) => range.split(';')[0].trim().toLowerCase() === NDJSON);
