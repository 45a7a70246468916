import { randomUUID } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { REQUEST_ID_PATTERN } from '../../kv/limits.js';
import { ServerError } from '../errors.js';

export interface AppOptions {
  readonly logger: Logger;
  /** Largest accepted client request body, in bytes. */
  readonly maxRequestBytes: number;
}

/**
 * The Fastify instance shared by client, peer and operator routes (one port). Every response
 * carries `x-request-id` (the caller's, if well-formed, else a new one) and every log line of
 * the request carries it as `reqId`. Every error has the shape
 * `{"error":{"code","message","details"}}` with a stable code from ERROR_STATUS.
 */
export function createApp(options: AppOptions): FastifyInstance {
  // Widened so Fastify's instance type is the default one used by every route module.
  const loggerInstance: FastifyBaseLogger = options.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: options.maxRequestBytes,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
    },
    // Our own hooks log each request once, with its outcome.
    logController: new LogController({ requestIdLogLabel: 'reqId', disableRequestLogging: true }),
    return503OnClosing: true,
    // On close, idle keep-alive connections go at once; requests in flight finish first.
    forceCloseConnections: 'idle',
  });

  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode >= 500) {
      request.log.warn(
        { method: request.method, url: request.url, status: reply.statusCode },
        'request failed',
      );
    } else {
      request.log.debug({ method: request.method, url: request.url, status: reply.statusCode }, 'request');
    }
    done();
  });

  app.setErrorHandler((error: FastifyError | ServerError, request, reply) => {
    const serverError = toServerError(error);
    if (serverError.code === 'INTERNAL') request.log.error({ err: error }, 'unexpected error');
    if (serverError.status === 503) void reply.header('retry-after', '1');
    void reply.status(serverError.status).send({
      error: { code: serverError.code, message: serverError.message, details: serverError.details ?? null },
    });
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      error: {
        code: 'ROUTE_NOT_FOUND',
        message: `no route for ${request.method} ${request.url}`,
        details: null,
      },
    });
  });

  return app;
}

/** Maps Fastify's own errors (body parsing, limits) onto our stable codes. */
function toServerError(error: FastifyError | ServerError): ServerError {
  if (error instanceof ServerError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ServerError('MALFORMED_JSON', 'the request body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ServerError('PAYLOAD_TOO_LARGE', 'the request body exceeds max-request-bytes');
    case 'FST_ERR_BAD_URL':
      return new ServerError('INVALID_ARGUMENT', 'the URL is not valid (bad percent-encoding?)');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ServerError('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    default:
      break;
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return new ServerError('MALFORMED_JSON', 'the request body is not valid JSON');
  }
  if (error.statusCode === 413) return new ServerError('PAYLOAD_TOO_LARGE', 'the request body is too large');
  if (error.statusCode === 415) return new ServerError('UNSUPPORTED_MEDIA_TYPE', 'unsupported content type');
  return new ServerError('INTERNAL', 'internal error', undefined, { cause: error });
}
