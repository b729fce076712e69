// Times the official JS client's grant.continue() (@interledger/open-payments, pinned in
// tests/interop/node_modules) against the benchmark's local server, inside Node.
// The client is created once; continuations are sequential (await each), so keep-alive applies.
// stdin: {"privateKeyPem","keyId","walletAddressUrl","url","accessToken","interactRef",
//         "n","batches","warmup"}
// stdout (one JSON line): {"per_op_us": median over batches, "batches_us": [...], "sample": result}
import crypto from 'node:crypto'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(path.join(here, '..', 'tests', 'interop', 'package.json'))
const { createAuthenticatedClient } = require('@interledger/open-payments')

const input = JSON.parse(await new Promise((resolve) => {
  let data = ''
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (c) => { data += c })
  process.stdin.on('end', () => resolve(data))
}))

const client = await createAuthenticatedClient({
  walletAddressUrl: input.walletAddressUrl,
  privateKey: crypto.createPrivateKey(input.privateKeyPem),
  keyId: input.keyId,
  validateResponses: true,
  useHttp: true
})
const continueOnce = () => client.grant.continue(
  { url: input.url, accessToken: input.accessToken }, { interact_ref: input.interactRef })

async function batch(n) {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await continueOnce()
  return Number(process.hrtime.bigint() - t0) / 1e3 / n
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }

for (let i = 0; i < input.warmup; i++) await batch(input.n)
const batches = []
for (let i = 0; i < input.batches; i++) batches.push(await batch(input.n))
const sample = await continueOnce()
process.stdout.write(JSON.stringify({ per_op_us: median(batches), batches_us: batches, sample }) + '\n')
