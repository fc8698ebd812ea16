// The event side of the API contract as main's front ends see it: something
// (the core) that emits each ApiEvents entry. Electron IPC and the headless
// server both forward from it, so it lives with the API, not in either of them.
import type { EventEmitter } from 'node:events'
import type { ApiEvents } from '../../shared/api'

export type ApiEventMap = { [E in keyof ApiEvents]: [ApiEvents[E]] }
/** What pushes events to clients: the core (a typed EventEmitter). */
export type EventSource = Pick<EventEmitter<ApiEventMap>, 'on' | 'off'>
