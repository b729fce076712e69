// What bench/node_sign.mjs and bench/node_e2e.mjs share: the pinned interop packages, the JSON
// input on stdin, and the timing loop whose one-line JSON result bench/run.py reads.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const here = path.dirname(fileURLToPath(import.meta.url))
// the pinned install in tests/interop/node_modules (npm ci --prefix tests/interop)
export const requireInterop = createRequire(path.join(here, '..', 'tests', 'interop', 'package.json'))

export const readInput = async () => JSON.parse(await new Promise((resolve) => {
  let data = ''
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (c) => { data += c })
  process.stdin.on('end', () => resolve(data))
}))

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }

// Runs `op` (awaited, sequentially) in input.warmup + input.batches batches of input.n calls and
// prints {"per_op_us": median over batches of (batch time / n), "batches_us": [...],
//         "sample": the result of one more call, for the caller to check}.
export async function timeAndReport (op, input) {
  const batch = async (n) => {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < n; i++) await op()
    return Number(process.hrtime.bigint() - t0) / 1e3 / n
  }
  for (let i = 0; i < input.warmup; i++) await batch(input.n)
  const batches = []
  for (let i = 0; i < input.batches; i++) batches.push(await batch(input.n))
  const sample = await op()
  process.stdout.write(JSON.stringify({ per_op_us: median(batches), batches_us: batches, sample }) + '\n')
}
