// Times the official Node signer, createHeaders() from @interledger/http-signature-utils
// (the pinned install in tests/interop/node_modules), inside Node.
// stdin: {"privateKeyPem","keyId","url","accessToken","body","n","batches","warmup"}
// stdout (one JSON line): {"per_op_us": median over batches of (batch time / n), "batches_us": [...],
//                          "sample": <headers of one signed request, for the caller to verify>}
import crypto from 'node:crypto'
import { readInput, requireInterop, timeAndReport } from './harness.mjs'
const { createHeaders } = requireInterop('@interledger/http-signature-utils')

const input = await readInput()
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

await timeAndReport(signOnce, input)
