// The shared status-ageing vectors (test/vectors/statusAgeing.json), the
// helper's side: a real python3 on the package the pod runs writes every case
// into one status file, settles it as the helper does before it answers
// (mark_stale) and on every write (retention), and must leave each entry as the
// TypeScript side does (test/unit/ageingVectors.test.ts).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ageingVectors, entryOut } from '../support/ageingVectors'
import { runPythonOnVectors } from '../support/vectors'

const PROGRAM = `
import json, os, sys
from podpull_helper import owners, status
v = json.load(open(sys.argv[1], encoding="utf-8"))
ws = sys.argv[2]
r = v["rules"]
owners.HOSTNAME = r["host"]
owners.pid_alive = lambda pid: pid in r["alivePids"]
owners.pid_start = lambda pid: r["pidStarts"].get(str(pid))
status.now = lambda: r["now"]
data = {}
for c in v["cases"]:
    path = os.path.join(ws, c["name"])
    e = dict(v["base"])
    e.update(c["entry"])
    data[path] = e
    if c.get("sidecar") is not None:
        with open(path + ".part.json", "w") as f:
            json.dump(c["sidecar"], f)
with open(os.path.join(ws, status.STATUS_NAME), "w") as f:
    json.dump(data, f)
sf = status.StatusFile(ws, r["retentionHours"], r["staleMinutes"])
sf.mark_stale()
sf.update(lambda d: None)
after = sf.read()
print(json.dumps({c["name"]: after.get(os.path.join(ws, c["name"])) for c in v["cases"]}))
`

describe("the helper's status ageing (test/vectors/statusAgeing.json)", () => {
  it('leaves every entry as the app does', () => {
    const v = ageingVectors()
    const ws = mkdtempSync(join(tmpdir(), 'podpull-hagevec-'))
    const got = runPythonOnVectors<Record<string, unknown>>(PROGRAM, 'statusAgeing.json', ws)
    const want = Object.fromEntries(v.cases.map((c) => [c.name, entryOut(v, c) ?? null]))
    expect(got).toEqual(want)
  })
})
