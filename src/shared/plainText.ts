// Text that came from elsewhere (a server's reason phrase or file name, a
// hub's metadata, a pod's status file) is data, never terminal commands: ESC
// sequences can retitle the window, write the clipboard (OSC 52) or hide what
// follows, and bidi overrides make a name read as something it is not. This is
// the one place those characters are taken out, before text is printed or stored.

/* eslint-disable no-control-regex -- control characters are exactly what these match */
/** C0 (but tab and newline), DEL, C1, and the bidi embeddings, overrides,
 *  isolates and marks (U+061C, U+200E/F, U+202A–202E, U+2066–2069). */
const CONTROLS =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
/** The same, tab and newline too: for one-line values (names, URLs, reasons). */
const CONTROLS_ONE_LINE =
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
/* eslint-enable no-control-regex */

/** `s` without terminal control characters and bidi controls; `oneLine`
 *  drops tab and newline as well. */
export function plainText(s: string, opts: { oneLine?: boolean } = {}): string {
  return s.replace(opts.oneLine ? CONTROLS_ONE_LINE : CONTROLS, '')
}

/** plainText for a value that may be absent. */
export function plainOrNull(s: string | null, opts: { oneLine?: boolean } = {}): string | null {
  return s === null ? null : plainText(s, opts)
}

/** JSON text made safe for a terminal without changing its meaning: every
 *  control and bidi character written as a \u escape (JSON.stringify leaves
 *  C1 and bidi characters raw; a status file read as text may hold anything). */
export function terminalSafeJson(text: string): string {
  // Outside strings, JSON allows only tab, LF and CR of these (whitespace): a
  // CR goes (it could overwrite the line), tab and LF stay; the rest are in strings.
  return text.replace(CONTROLS, (c) =>
    c === '\r' ? '' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  )
}

/** JSON for a terminal (pretty-printed, then terminalSafeJson). */
export function terminalJson(value: unknown): string {
  return terminalSafeJson(JSON.stringify(value, null, 2))
}
