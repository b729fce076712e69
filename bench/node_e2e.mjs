// Times the official JS client's grant.continue() (@interledger/open-payments, pinned in
// tests/interop/node_modules) against the benchmark's local server, inside Node.
// The client is created once; continuations are sequential (await each), so keep-alive applies.
// stdin: {"privateKeyPem","keyId","walletAddressUrl","url","accessToken","interactRef",
//         "n","batches","warmup"}
// stdout (one JSON line): {"per_op_us": median over batches, "batches_us": [...], "sample": result}
import crypto from 'node:crypto'
import { readInput, requireInterop, timeAndReport } from './harness.mjs'
const { createAuthenticatedClient } = requireInterop('@interledger/open-payments')

const input = await readInput()

const client = await createAuthenticatedClient({
  walletAddressUrl: input.walletAddressUrl,
  privateKey: crypto.createPrivateKey(input.privateKeyPem),
  keyId: input.keyId,
  validateResponses: true,
  useHttp: true
})
const continueOnce = () => client.grant.continue(
  { url: input.url, accessToken: input.accessToken }, { interact_ref: input.interactRef })

await timeAndReport(continueOnce, input)
