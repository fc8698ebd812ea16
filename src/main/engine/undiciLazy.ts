// undici is most of the bundled JavaScript (~0.8 MB of a 1.4 MB chunk). A
// plain download never needs it (rawHttp speaks the simple case), and every
// CLI command paid for parsing and evaluating it at start-up; loaded on the
// first request that does need it, it is a chunk of its own.
import type { Agent, Dispatcher } from 'undici'

type Undici = typeof import('undici')

let loading: Promise<Undici> | undefined
let shared: Agent | undefined

const loadUndici = (): Promise<Undici> => (loading ??= import('undici'))

/** undici's request(), loaded on first use. */
export async function request(
  url: URL,
  options: Parameters<Undici['request']>[1]
): Promise<Dispatcher.ResponseData> {
  // The opaque type undici infers from the options is not ours to keep.
  return (await loadUndici()).request(url, options) as Promise<Dispatcher.ResponseData>
}

/** The engine's one Agent: many connections per host (16 per job, several jobs). */
export async function engineAgent(): Promise<Agent> {
  const { Agent } = await loadUndici()
  shared ??= new Agent({ connections: 128, pipelining: 1, keepAliveTimeout: 10_000 })
  return shared
}
