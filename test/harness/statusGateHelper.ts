// A pod helper whose status can be made unreadable by the test: while the gate
// is closed, `status` fails and `watch` reports an empty status file (then
// waits for the gate to open and runs as usual). Everything else, and every
// command once the gate is open, is the real helper (out/helper, which the
// global setup builds), run in the same process by exec, so its stdin is
// untouched. Stands for a pod whose status read fails right after an action
// (a dropped link, a busy disk) and a watch whose first snapshot is not in yet.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildHelper, HELPER_PYZ, HELPER_SOURCE } from '../../scripts/build-helper.mjs'
import { loadHelper, type HelperFile } from '../../src/main/ssh/helperUpload'

export interface StatusGateHelper {
  helper: HelperFile
  /** From now on `status` fails and a new `watch` shows no entries. */
  close(): void
  /** The real helper again; a waiting `watch` goes on. */
  open(): void
}

const wrapper = (real: string, gate: string): string => `import json, os, sys, time
REAL = ${JSON.stringify(real)}
GATE = ${JSON.stringify(gate)}
word = sys.argv[-1]
if os.path.exists(GATE) and word == "status":
    print(json.dumps({"ok": False, "code": "internal", "error": "The status file could not be read."}))
    sys.exit(0)
if os.path.exists(GATE) and word == "watch":
    print(json.dumps({"type": "status", "status": {}}), flush=True)
    while os.path.exists(GATE):
        time.sleep(0.05)
os.execv(sys.executable, [sys.executable, "-I", "-S", REAL, word])
`

/** Builds the helper in `parent`; the gate starts open. */
export function statusGateHelper(parent: string): StatusGateHelper {
  const dir = mkdtempSync(join(parent, 'gated-helper-'))
  const gate = join(dir, 'status-gate')
  const src = join(dir, 'src')
  mkdirSync(join(src, 'podpull_helper'), { recursive: true })
  writeFileSync(join(src, '__main__.py'), wrapper(HELPER_PYZ, gate))
  // Its version line, which loadHelper reads from the archive.
  const init = join('podpull_helper', '__init__.py')
  copyFileSync(join(HELPER_SOURCE, init), join(src, init))
  const pyz = join(dir, 'gated.pyz')
  writeFileSync(pyz, buildHelper(src))
  return {
    helper: loadHelper(pyz),
    close: () => writeFileSync(gate, ''),
    open: () => rmSync(gate, { force: true })
  }
}
