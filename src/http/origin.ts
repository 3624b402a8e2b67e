/**
 * Who the gate is to its clients, and who is asking: the public origin that
 * challenges, redirects, forms and tokens name, and whether a request comes
 * from zot's UI.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/types.js';
import { isValidHost } from '../policy/host-header.js';
import { clientOrigin } from '../proxy/forwarded.js';
import { sendOciError } from './oci-error.js';
import { HOST_INVALID } from './respond.js';

/** zot's UI header: its requests must not get a challenge, or the browser shows a Basic prompt. */
export const ZOT_UI_HEADER = 'x-zot-api-client';
export const ZOT_UI_VALUE = 'zot-ui';

/**
 * zot's UI sends this header on every call. A cross-site form or image cannot
 * (a custom header needs a CORS preflight the gate never grants), so a browser
 * session counts on registry routes and `/zot/auth/apikey` only with it.
 */
export function isZotUi(request: FastifyRequest): boolean {
  return request.headers[ZOT_UI_HEADER] === ZOT_UI_VALUE;
}

/** The origin clients use: `externalUrl`, else what this request came in on. */
export function publicOrigin(request: FastifyRequest, config: Config): string {
  return config.externalUrl ?? clientOrigin(request);
}

/** The Docker token flow's `service`: the registry's host name, which gate tokens carry as their audience. */
export function serviceOf(request: FastifyRequest, config: Config): string {
  return new URL(publicOrigin(request, config)).host;
}

/**
 * An onRequest hook: a request whose Host is no host and port
 * (policy/host-header.ts) is answered 400 before anything reads it — the
 * public origin is made from it — and is never forwarded. Always checked,
 * `externalUrl` or not: the Host goes to the registry too.
 */
export async function refuseMalformedHost(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const host = request.headers.host;
  if (host === undefined || isValidHost(host)) return undefined;
  sendOciError(request, reply, HOST_INVALID);
  return reply;
}
