/**
 * Every error switchyard answers with, in one catalogue: a stable code, the HTTP status it maps
 * to, and the `reason` word used in metrics and logs. docs/errors.md lists them; a test checks
 * that the two agree.
 */
import { STATUS_CODES } from 'node:http';

export interface ErrorDef {
  code: string;
  status: number;
  /** Bounded metric label and log word. */
  reason: string;
  message: string;
  /** Headers every reply with this error carries (a 405's Allow, RFC 9110 §15.5.6). */
  headers?: Readonly<Record<string, string>>;
}

function def(code: string, status: number, reason: string, message: string, headers?: Record<string, string>): ErrorDef {
  return Object.freeze(headers ? { code, status, reason, message, headers: Object.freeze(headers) } : { code, status, reason, message });
}

/**
 * The methods the gateway forwards by name (the rule language's, src/rules/rule-set.ts), for the
 * Allow header of the 405 that CONNECT gets; any other method token Node's parser knows is
 * forwarded too.
 */
const FORWARDED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE';

export const ERRORS = Object.freeze({
  // Upstream (backend) side.
  UPSTREAM_REFUSED: def('SWY_ERR_UPSTREAM_REFUSED', 502, 'refused', 'the backend refused the connection'),
  UPSTREAM_RESET: def('SWY_ERR_UPSTREAM_RESET', 502, 'reset', 'the backend closed the connection before answering'),
  UPSTREAM_CONNECT_TIMEOUT: def('SWY_ERR_UPSTREAM_CONNECT_TIMEOUT', 504, 'connect_timeout', 'the backend did not accept the connection in time'),
  UPSTREAM_RESPONSE_TIMEOUT: def('SWY_ERR_UPSTREAM_RESPONSE_TIMEOUT', 504, 'response_timeout', 'the backend did not answer in time'),
  UPSTREAM_BAD_RESPONSE: def('SWY_ERR_UPSTREAM_BAD_RESPONSE', 502, 'bad_response', 'the backend sent an invalid response'),
  UPSTREAM_BUSY: def('SWY_ERR_UPSTREAM_BUSY', 503, 'busy', 'every connection to the backend is taken and its wait queue is full'),
  UPSTREAM_FAILED: def('SWY_ERR_UPSTREAM_FAILED', 502, 'error', 'the request to the backend failed'),
  // Downstream (client) side.
  CLIENT_BAD_REQUEST: def('SWY_ERR_CLIENT_BAD_REQUEST', 400, 'bad_request', 'the request is malformed'),
  CLIENT_URI_TOO_LONG: def('SWY_ERR_CLIENT_URI_TOO_LONG', 414, 'uri_too_long', 'the request target is longer than the limit'),
  CLIENT_HEADERS_TOO_LARGE: def('SWY_ERR_CLIENT_HEADERS_TOO_LARGE', 431, 'headers_too_large', 'the request headers are over the size or count limit'),
  CLIENT_METHOD_NOT_ALLOWED: def(
    'SWY_ERR_CLIENT_METHOD_NOT_ALLOWED',
    405,
    'method_not_allowed',
    'CONNECT is not served: the gateway forwards requests and opens no tunnels',
    { allow: FORWARDED_METHODS },
  ),
  CLIENT_HTTP_VERSION: def(
    'SWY_ERR_CLIENT_HTTP_VERSION',
    505,
    'http_version',
    'the HTTP version of the request line is not supported (HTTP/1.0 and HTTP/1.1 are)',
  ),
  CLIENT_TIMEOUT: def('SWY_ERR_CLIENT_TIMEOUT', 408, 'timeout', 'the request was not received in time'),
  CLIENT_ABORTED: def('SWY_ERR_CLIENT_ABORTED', 499, 'client_aborted', 'the client went away before the answer was complete'),
  // The gateway itself.
  NOT_READY: def('SWY_ERR_NOT_READY', 503, 'not_ready', 'no rule set is loaded yet'),
  SHUTTING_DOWN: def('SWY_ERR_SHUTTING_DOWN', 503, 'shutting_down', 'the gateway is shutting down'),
  INTERNAL: def('SWY_ERR_INTERNAL', 500, 'internal', 'the gateway failed to handle the request'),
  // The pipeline.
  PIPELINE_MODULE_FAILED: def('SWY_ERR_PIPELINE_MODULE_FAILED', 503, 'module_failed', 'a product module failed and is configured to fail closed'),
  PIPELINE_PHASE: def('SWY_ERR_PIPELINE_PHASE', 500, 'phase_violation', 'a module wrote to a header map outside its phase'),
  // Shadow copies (never sent to clients: counted and logged).
  SHADOW_TIMEOUT: def('SWY_ERR_SHADOW_TIMEOUT', 504, 'shadow_timeout', 'the shadow target did not answer in time'),
  SHADOW_NO_BODY: def('SWY_ERR_SHADOW_NO_BODY', 413, 'body_too_large', 'the request body was over max_body or did not arrive whole'),
  // Configuration, rules and the admin listener.
  CONFIG_INVALID: def('SWY_ERR_CONFIG_INVALID', 400, 'config_invalid', 'the configuration or rules are invalid'),
  RULES_VERSION_CONFLICT: def('SWY_ERR_RULES_VERSION_CONFLICT', 409, 'version_conflict', 'the active rules version is not the expected one'),
  RULES_NOT_IN_REDIS: def('SWY_ERR_RULES_NOT_IN_REDIS', 409, 'rules_from_file', 'rules are read from a file; this needs rules.redis in the gateway config'),
  RULES_STORE_UNAVAILABLE: def('SWY_ERR_RULES_STORE_UNAVAILABLE', 503, 'store_unavailable', 'the rules store (Redis) did not answer'),
  ROLLOUT_REFUSED: def('SWY_ERR_ROLLOUT_REFUSED', 409, 'rollout_refused', 'the rollout cannot take this action now'),
  ADMIN_UNAUTHORIZED: def('SWY_ERR_ADMIN_UNAUTHORIZED', 401, 'unauthorized', 'a valid "Authorization: Bearer <admin.token>" is required'),
  ADMIN_NOT_FOUND: def('SWY_ERR_ADMIN_NOT_FOUND', 404, 'not_found', 'no such admin endpoint'),
  ADMIN_METHOD_NOT_ALLOWED: def('SWY_ERR_ADMIN_METHOD_NOT_ALLOWED', 405, 'method_not_allowed', 'the admin endpoint does not take this method'),
  ADMIN_BAD_REQUEST: def('SWY_ERR_ADMIN_BAD_REQUEST', 400, 'bad_request', 'the admin request has an invalid parameter'),
  ADMIN_BODY_TOO_LARGE: def('SWY_ERR_ADMIN_BODY_TOO_LARGE', 413, 'body_too_large', 'the admin request body is over 1 MiB'),
  ADMIN_NO_WORKER: def('SWY_ERR_ADMIN_NO_WORKER', 503, 'no_worker', 'no worker answered'),
});

/** An Error carrying a catalogue entry's code, with its message or `message`. */
export function errorOf(e: ErrorDef, message = e.message): Error & { code: string } {
  return Object.assign(new Error(message), { code: e.code });
}

/**
 * The entries an error raised on the upstream request's path may carry as its own code: the
 * gateway's HTTP/1.1 client (forward/h1-pool.ts), the forwarder (a full queue, a client that
 * stopped reading), the body guard. Built once, from the area each entry is filed under.
 */
const PATH_CODES = new Map<string, ErrorDef>(
  Object.entries(ERRORS)
    .filter(([name]) => name.startsWith('UPSTREAM_') || name.startsWith('CLIENT_'))
    .map(([, e]) => [e.code, e]),
);

/** Maps an error raised by the upstream client (h1-pool.ts, undici, node:net) to its catalogue entry. */
export function classifyUpstreamError(err: unknown): ErrorDef {
  const { code, name } = (err ?? {}) as { code?: unknown; name?: unknown };
  const own = typeof code === 'string' ? PATH_CODES.get(code) : undefined;
  if (own) return own;
  // undici 7 raises HTTPParserError for a response that is not HTTP with `code` undefined (it
  // looks the llhttp error number up in a name-to-number table), so the HPE_ codes below never
  // arrive from it: recognise it by name.
  if (name === 'HTTPParserError') return ERRORS.UPSTREAM_BAD_RESPONSE;
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return ERRORS.UPSTREAM_REFUSED;
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return ERRORS.UPSTREAM_RESET;
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return ERRORS.UPSTREAM_CONNECT_TIMEOUT;
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return ERRORS.UPSTREAM_RESPONSE_TIMEOUT;
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return ERRORS.CLIENT_ABORTED;
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'UND_ERR_INFO':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
    case 'UND_ERR_RES_EXCEEDED_MAX_SIZE':
      return ERRORS.UPSTREAM_BAD_RESPONSE;
    default:
      return ERRORS.UPSTREAM_FAILED;
  }
}

type Blame = 'upstream' | 'client' | 'gateway';

/** Built once, from the area each entry is filed under (UPSTREAM_*, CLIENT_*, the rest). */
const BLAME = new Map<ErrorDef, Blame>(
  Object.entries(ERRORS).map(([name, e]) => [e, name.startsWith('UPSTREAM_') ? 'upstream' : name.startsWith('CLIENT_') ? 'client' : 'gateway']),
);

/**
 * Whom an error is counted against: the backend (`switchyard_upstream_errors_total`), the
 * client (`switchyard_client_errors_total`), or the gateway itself (neither: only its status in
 * `switchyard_requests_total`).
 */
export function blameOf(e: ErrorDef): Blame {
  return BLAME.get(e) ?? 'gateway';
}

/** The fields of a local reply's JSON body (`error`, `code`, `message`, then `extra`). */
export function errorFields(e: ErrorDef, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { error: e.reason, code: e.code, message: e.message, ...extra };
}

/** The small JSON body of a local reply. */
export function errorBody(e: ErrorDef, extra: Record<string, string | undefined> = {}): string {
  return JSON.stringify(errorFields(e, extra));
}

/**
 * A whole HTTP/1.1 error response, for the places that answer on a bare socket (parser errors,
 * refused upgrades): the same JSON body as every other local reply, and the connection closes.
 */
export function rawErrorResponse(e: ErrorDef, head = false): string {
  const body = errorBody(e);
  let extra = '';
  for (const name in e.headers) extra += `${name}: ${e.headers[name]}\r\n`;
  // An answer to HEAD carries the headers of the body it would have, not the body (RFC 9110 §9.3.2).
  return `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? 'Error'}\r\nconnection: close\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${head ? '' : body}`;
}
