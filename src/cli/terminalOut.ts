// Everything the CLI prints goes through here: text from servers, hubs and
// pods (names, reasons, errors, paths) reaches the terminal without control
// sequences (shared/plainText.ts). The progress bar writes its own.
import { plainText, terminalJson } from '../shared/plainText'

export const say = (s: string): void => void process.stdout.write(plainText(s))
export const warn = (s: string): void => void process.stderr.write(plainText(s))
/** A value as pretty JSON on stdout, one line feed after it. */
export const sayJson = (value: unknown): void =>
  void process.stdout.write(`${terminalJson(value)}\n`)
