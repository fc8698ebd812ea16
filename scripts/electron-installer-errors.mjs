// Loaded (node --import) into Electron's installer by scripts/launch.mjs: the
// installer reports a failure as a stack on stderr, which would bury the one
// sentence the launcher prints. Its error output goes to fd 3 for the launcher
// instead, led by the cause a failed fetch carries (the stack only says "fetch
// failed"; the cause says "getaddrinfo ENOTFOUND github.com").
import { writeSync } from 'node:fs'
import { format } from 'node:util'

const toLauncher = (text) => writeSync(3, `${text}\n`)

const fetchOnce = globalThis.fetch
globalThis.fetch = (...args) =>
  fetchOnce(...args).catch((err) => {
    if (err?.cause?.message) toLauncher(`${err.message}: ${err.cause.message}`)
    throw err
  })

console.error = (...args) => toLauncher(format(...args))
