// The shared folder vectors (test/vectors/folders.json), the helper's side: a
// real python3 on the package the pod runs reads the same file the TypeScript
// side does (test/unit/folderVectors.test.ts) and must give the same answers.
import { describe, expect, it } from 'vitest'
import { folderVectors } from '../support/folderVectors'
import { layOutScratch, runPythonOnVectors } from '../support/vectors'

const PROGRAM = `
import json, os, sys
from podpull_helper.destination import check_stored_destination, validate_folder
from podpull_helper.errors import HelperError
v = json.load(open(sys.argv[1], encoding="utf-8"))
scratch = sys.argv[2]

def folder_used(folder):
    try:
        return validate_folder(folder)
    except HelperError as e:
        return "refused: " + e.code if e.code != "unsafe-path" else None

def refusal(c):
    path = c["path"] if c.get("relative") else os.path.join(scratch, c["path"])
    roots = [] if c.get("withRoots") is False else [
        (r["folder"], os.path.join(scratch, r["dir"])) for r in v["roots"]]
    try:
        check_stored_destination(path, os.path.join(scratch, "models"), roots)
        return None
    except HelperError as e:
        if e.code != "unsafe-path":
            return "code " + e.code
        end = "; PodPull will not write there."
        msg = str(e)
        return msg[len(path) + 1:-len(end)] if msg.endswith(end) else msg

print(json.dumps({
    "names": [folder_used(c["in"]) for c in v["folderNames"]],
    "stored": [refusal(c) for c in v["storedDestinations"]],
}))
`

describe("the helper's folder rules (test/vectors/folders.json)", () => {
  it('accept and refuse the same folders and stored destinations as the app', () => {
    const v = folderVectors()
    const scratch = layOutScratch(v.layout, 'podpull-hfoldervec-')
    const got = runPythonOnVectors<{ names: (string | null)[]; stored: (string | null)[] }>(
      PROGRAM,
      'folders.json',
      scratch
    )
    expect(got.names).toEqual(v.folderNames.map((c) => c.out))
    expect(got.stored).toEqual(v.storedDestinations.map((c) => c.refused))
  })
})
