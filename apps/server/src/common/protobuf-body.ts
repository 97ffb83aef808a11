import type { FastifyInstance } from 'fastify';
import { ServerError } from './server-error.js';

/** The media types of a protobuf request body: `application/protobuf`, and the older `application/x-protobuf`. */
export const PROTOBUF_MEDIA_TYPES = ['application/protobuf', 'application/x-protobuf'] as const;

/**
 * Lets the routes named (their full route pattern, e.g. `/api/v1/fapp/announces/batch`) take a
 * protobuf body: it reaches the handler as a Buffer of at most `bodyLimit` bytes (a larger body is
 * 413 `request.body_too_large`, as for JSON). Every other route answers such a body with 415
 * `request.unsupported_media_type`, as it answers any type it does not read.
 */
export function acceptProtobufBodies(fastify: FastifyInstance, routes: readonly string[], bodyLimit: number): void {
  const accepting = new Set(routes);
  fastify.addContentTypeParser([...PROTOBUF_MEDIA_TYPES], { parseAs: 'buffer', bodyLimit }, (req, body, done) => {
    if (!accepting.has(req.routeOptions.url ?? '')) {
      done(new ServerError('request.unsupported_media_type', 415, `this route does not take ${PROTOBUF_MEDIA_TYPES[0]}`), undefined);
      return;
    }
    done(null, body);
  });
}
