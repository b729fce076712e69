#!/usr/bin/env node
// Interop peer for op_continue's Python tests.
//
// Drives the *official* Open Payments Node tooling pinned in package-lock.json
// (@interledger/http-signature-utils 2.0.3, @interledger/open-payments 7.4.0).
//
// Protocol: read ONE JSON object from stdin, write ONE JSON object (one line) to stdout.
//   exit 0 -> stdout holds the answer (which may be {"error": "..."}).
//   exit 2 -> stdin was not a single JSON object; a message goes to stderr, stdout is empty.
//
// Ops:
//   {"op":"createHeaders","privateKeyPem":"-----BEGIN PRIVATE KEY-----...","keyId":"k1",
//    "created":1700000000,                       (optional; default: the real clock)
//    "request":{"method":"POST","url":"https://...","headers":{...},"body":"{...}"}}
//     -> {"headers": <exactly what createHeaders() returned>}
//     ("privateKeyJwk": {kty,crv,x,d} may be given instead of privateKeyPem.)
//
//   {"op":"validate","jwk":{...public JWK...},
//    "request":{"method":"POST","url":"https://...","headers":{...},"body":"..."},
//    "emptyBody":"koa"|"absent"}                   (optional, default "koa"; see below)
//     -> {"validHeaders": bool, "valid": bool, "keyId": string|null, "error"?: "..."}
//
//   {"op":"grantContinue","privateKeyPem":"...","keyId":"k1","walletAddressUrl":"https://...",
//    "url":"http://127.0.0.1:PORT/continue/ID","accessToken":"tok",
//    "body":{"interact_ref":"x"},                  (optional; omitted -> continue without body)
//    "validateResponses":true, "useHttp":false, "requestTimeoutMs":5000, "created":...}
//     -> {"result": <parsed response body>} or
//        {"error": "...", "description", "status", "code", "details", "validationErrors"}
//     Runs the real createAuthenticatedClient(...).grant.continue(...) against a live URL.
//
//   {"op":"batch","items":[<op>, <op>, ...]}  -> {"results":[<answer>, ...]}
//     Items are run sequentially; each item's failure is reported as {"error"} in place.
//
// ---------------------------------------------------------------------------------------
// How "validate" mirrors the Rafiki auth server (interledger/rafiki,
// packages/auth/src/signature/middleware.ts, contextToRequestLike + grantContinueHttpsigMiddleware):
//
//   contextToRequestLike(ctx) = {
//     url:     ctx.href                 (the caller supplies this as request.url verbatim),
//     method:  ctx.method,
//     headers: JSON.parse(JSON.stringify(ctx.headers)),   // Node http: names lower-cased,
//                                                         // values OWS-trimmed
//     body:    ctx.request.body ? JSON.stringify(ctx.request.body) : undefined
//   }
//   ctx.request.body comes from koa-bodyparser, i.e. JSON.parse of the raw body, and `{}` when
//   there is no body at all (so Rafiki digests the string "{}" for a body-less request if
//   content-digest is covered). emptyBody:"absent" passes `undefined` instead.
//
//   The middleware first requires validateSignatureHeaders(req) (and, on the continue route, an
//   Authorization header); only then does it look up the client key by
//   getKeyId(signature-input) and call validateSignature(jwk, req). We do the same: "valid" is
//   only computed when "validHeaders" is true (otherwise valid=false). "keyId" is what
//   getKeyId() extracts, so tests can check it against jwk.kid themselves.
//
// Headers given as {name: value} are converted the way Node's HTTP parser would present them:
// names lower-cased; array values and case-variant duplicates are joined with ", " except for
// the fields Node de-duplicates (first wins); string values are trimmed of SP/HTAB.
// ---------------------------------------------------------------------------------------

import crypto from 'node:crypto'
import httpSig from '@interledger/http-signature-utils'
import openPayments from '@interledger/open-payments'

const { createHeaders, validateSignatureHeaders, validateSignature, getKeyId } = httpSig
const { createAuthenticatedClient } = openPayments

class UsageError extends Error {}

// ---- helpers -------------------------------------------------------------------------

const RealDate = globalThis.Date

// http-message-signatures picks `created` with `new Date()` (createSigningParameters), not
// Date.now(), so stubbing Date.now alone is not enough: swap the global Date for a subclass
// whose zero-argument constructor and now() return the fixed instant.
async function withFixedClock(createdSeconds, fn) {
  if (createdSeconds === undefined || createdSeconds === null) return fn()
  if (!Number.isInteger(createdSeconds)) throw new UsageError('"created" must be an integer (seconds)')
  const fixedMs = createdSeconds * 1000
  class FixedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(fixedMs)
      else super(...args)
    }
    static now() {
      return fixedMs
    }
  }
  globalThis.Date = FixedDate
  try {
    return await fn()
  } finally {
    globalThis.Date = RealDate
  }
}

function loadPrivateKey(op) {
  if (typeof op.privateKeyPem === 'string') return crypto.createPrivateKey(op.privateKeyPem)
  if (op.privateKeyJwk && typeof op.privateKeyJwk === 'object')
    return crypto.createPrivateKey({ key: op.privateKeyJwk, format: 'jwk' })
  throw new UsageError('missing "privateKeyPem" (or "privateKeyJwk")')
}

function requireRequest(op) {
  const r = op.request
  if (!r || typeof r !== 'object' || Array.isArray(r)) throw new UsageError('missing "request" object')
  if (typeof r.method !== 'string') throw new UsageError('"request.method" must be a string')
  if (typeof r.url !== 'string') throw new UsageError('"request.url" must be a string')
  if (r.headers !== undefined && (typeof r.headers !== 'object' || r.headers === null || Array.isArray(r.headers)))
    throw new UsageError('"request.headers" must be an object')
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string')
    throw new UsageError('"request.body" must be a string')
  return r
}

// Fields for which Node's http.IncomingMessage keeps the first value and drops duplicates.
const NODE_DISCARD_DUPLICATES = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host',
  'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards',
  'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent'
])

function nodeStyleHeaders(headers) {
  const out = {}
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const lc = name.toLowerCase()
    const values = (Array.isArray(raw) ? raw : [raw]).map((v) => String(v).replace(/^[ \t]+|[ \t]+$/g, ''))
    for (const v of values) {
      if (!(lc in out)) out[lc] = v
      else if (!NODE_DISCARD_DUPLICATES.has(lc)) out[lc] = `${out[lc]}, ${v}`
    }
  }
  return JSON.parse(JSON.stringify(out))
}

const errMsg = (e) => (e instanceof Error ? e.message : String(e))

// ---- ops -----------------------------------------------------------------------------

async function opCreateHeaders(op) {
  const r = requireRequest(op)
  if (typeof op.keyId !== 'string') throw new UsageError('"keyId" must be a string')
  const privateKey = loadPrivateKey(op)
  const request = {
    method: r.method,
    url: r.url,
    headers: { ...(r.headers ?? {}) },
    body: r.body ?? undefined
  }
  const headers = await withFixedClock(op.created, () =>
    createHeaders({ request, privateKey, keyId: op.keyId })
  )
  return { headers }
}

async function opValidate(op) {
  const r = requireRequest(op)
  if (!op.jwk || typeof op.jwk !== 'object') throw new UsageError('missing "jwk" object')
  const emptyBody = op.emptyBody ?? 'koa'
  if (emptyBody !== 'koa' && emptyBody !== 'absent') throw new UsageError('"emptyBody" must be "koa" or "absent"')

  let parsedBody
  if (typeof r.body === 'string' && r.body !== '') {
    try {
      parsedBody = JSON.parse(r.body)
    } catch (e) {
      // koa-bodyparser would answer 400 before the signature middleware runs.
      return { validHeaders: false, valid: false, keyId: null, error: `body is not JSON: ${errMsg(e)}` }
    }
  } else if (emptyBody === 'koa') {
    parsedBody = {}
  }
  const request = {
    url: r.url,
    method: r.method,
    headers: nodeStyleHeaders(r.headers),
    body: parsedBody ? JSON.stringify(parsedBody) : undefined
  }
  const sigInput = request.headers['signature-input']
  const keyId = typeof sigInput === 'string' ? (getKeyId(sigInput) ?? null) : null

  let validHeaders
  try {
    validHeaders = validateSignatureHeaders(request)
  } catch (e) {
    return { validHeaders: false, valid: false, keyId, error: `validateSignatureHeaders threw: ${errMsg(e)}` }
  }
  validHeaders = validHeaders === true
  if (!validHeaders) return { validHeaders, valid: false, keyId }
  try {
    const valid = (await validateSignature(op.jwk, request)) === true
    return { validHeaders, valid, keyId }
  } catch (e) {
    return { validHeaders, valid: false, keyId, error: `validateSignature threw: ${errMsg(e)}` }
  }
}

async function opGrantContinue(op) {
  for (const k of ['keyId', 'walletAddressUrl', 'url', 'accessToken'])
    if (typeof op[k] !== 'string') throw new UsageError(`"${k}" must be a string`)
  const privateKey = loadPrivateKey(op)
  try {
    const client = await createAuthenticatedClient({
      walletAddressUrl: op.walletAddressUrl,
      privateKey,
      keyId: op.keyId,
      validateResponses: op.validateResponses ?? true,
      useHttp: op.useHttp ?? false,
      ...(op.requestTimeoutMs ? { requestTimeoutMs: op.requestTimeoutMs } : {})
    })
    const result = await withFixedClock(op.created, () =>
      client.grant.continue({ url: op.url, accessToken: op.accessToken }, op.body)
    )
    return { result: result ?? null }
  } catch (e) {
    const out = { error: errMsg(e) }
    for (const k of ['description', 'status', 'code', 'details', 'validationErrors'])
      if (e && e[k] !== undefined) out[k] = e[k]
    return out
  }
}

const OPS = { createHeaders: opCreateHeaders, validate: opValidate, grantContinue: opGrantContinue }

async function runOne(op, allowBatch) {
  try {
    if (!op || typeof op !== 'object' || Array.isArray(op)) throw new UsageError('op must be a JSON object')
    if (op.op === 'batch') {
      if (!allowBatch) throw new UsageError('nested batch is not allowed')
      if (!Array.isArray(op.items)) throw new UsageError('"items" must be an array')
      const results = []
      for (const item of op.items) results.push(await runOne(item, false))
      return { results }
    }
    const fn = OPS[op.op]
    if (!fn) throw new UsageError(`unknown op ${JSON.stringify(op.op)}`)
    return await fn(op)
  } catch (e) {
    return { error: errMsg(e) }
  }
}

// ---- main ----------------------------------------------------------------------------

async function readStdin() {
  const chunks = []
  for await (const c of process.stdin) chunks.push(c)
  return Buffer.concat(chunks).toString('utf8')
}

const text = await readStdin()
let input
try {
  input = JSON.parse(text)
} catch (e) {
  process.stderr.write(`peer.mjs: stdin is not JSON: ${errMsg(e)}\n`)
  process.exit(2)
}
if (!input || typeof input !== 'object' || Array.isArray(input)) {
  process.stderr.write('peer.mjs: stdin must be a single JSON object\n')
  process.exit(2)
}
const answer = await runOne(input, true)
process.stdout.write(JSON.stringify(answer) + '\n', () => process.exit(0))
