import type { ErrorRequestHandler, RequestHandler } from 'express';
import { DealgateError, type ErrorCode } from '../shared/errors';
import type { Logger } from '../shared/logger';

/** The HTTP status of each error code: the one place a use case's error becomes a status. */
export const errorStatus: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  replayed: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  hubspot_unavailable: 502,
  not_ready: 503,
  internal: 500,
};

export const httpStatusOf = (error: DealgateError): number => errorStatus[error.code];

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export function errorBody(error: DealgateError): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}

/**
 * Errors raised by express itself carry an HTTP `status`: its body parsers (with a `type`), a body
 * that cannot be decompressed (no `type`), a path parameter that is not valid percent-encoding
 * (the router's "Failed to decode param"). A 4xx among them is the caller's mistake, never a 500.
 */
interface ExpressHttpError {
  type?: unknown;
  status: number;
  message: string;
}

function isExpressHttpError(error: unknown): error is ExpressHttpError {
  return typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number' && error instanceof Error;
}

function toDealgateError(error: unknown): DealgateError | undefined {
  if (error instanceof DealgateError) return error;
  if (isExpressHttpError(error)) {
    if (error.type === 'entity.too.large') return new DealgateError('payload_too_large', 'the request body is larger than allowed (1 MB)');
    if (error.type === 'entity.parse.failed') return new DealgateError('invalid_request', 'the request body is not valid JSON');
    if (error.type === 'encoding.unsupported' || error.type === 'charset.unsupported')
      return new DealgateError('unsupported_media_type', error.message);
    if (error.status >= 400 && error.status < 500) {
      return new DealgateError('invalid_request', typeof error.type === 'string' ? error.message : `the request could not be read: ${error.message}`);
    }
  }
  return undefined;
}

/** The one place where errors become HTTP responses: `{"error": {"code", "message", "details"?}}`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const known = toDealgateError(error);
    if (known) {
      if (httpStatusOf(known) >= 500) logger.error({ err: error, method: req.method, path: req.path }, known.message);
      res.status(httpStatusOf(known)).json(errorBody(known));
      return;
    }
    logger.error({ err: error, method: req.method, path: req.path }, 'unhandled error');
    res.status(500).json(errorBody(new DealgateError('internal', 'internal error; the details are in the service log')));
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new DealgateError('not_found', `no route for ${req.method} ${req.path}`));
};
