// Times the official Node signer, createHeaders() from @interledger/http-signature-utils
// (the pinned install in tests/interop/node_modules), inside Node.
// stdin: {"privateKeyPem","keyId","url","accessToken","body","n","batches","warmup"}
// stdout (one JSON line): {"per_op_us": median over batches of (batch time / n), "batches_us": [...],
//                          "sample": <headers of one signed request, for the caller to verify>}
import crypto from 'node:crypto'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(path.join(here, '..', 'tests', 'interop', 'package.json'))
const { createHeaders } = require('@interledger/http-signature-utils')

const input = JSON.parse(await new Promise((resolve) => {
  let data = ''
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (c) => { data += c })
  process.stdin.on('end', () => resolve(data))
}))
const privateKey = crypto.createPrivateKey(input.privateKeyPem)

// What the SDK's client hands createHeaders for a continuation (its request interceptor).
const signOnce = () => createHeaders({
  request: {
    method: 'POST',
    url: input.url,
    headers: { Authorization: `GNAP ${input.accessToken}`, 'Content-Type': 'application/json',
               Accept: 'application/json' },
    body: input.body
  },
  privateKey,
  keyId: input.keyId
})

async function batch(n) {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await signOnce()
  return Number(process.hrtime.bigint() - t0) / 1e3 / n
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }

for (let i = 0; i < input.warmup; i++) await batch(input.n)
const batches = []
for (let i = 0; i < input.batches; i++) batches.push(await batch(input.n))
const sample = await signOnce()
process.stdout.write(JSON.stringify({ per_op_us: median(batches), batches_us: batches, sample }) + '\n')
