// Vitest global setup: builds the pod helper's zipapp (out/helper/podpull_helper.pyz)
// from resources/helper before any test runs, so every test, and every helper
// the app code finds through loadHelper(), runs the package as it is now and
// as it ships (the same bytes `npm run build` writes).
import { writeHelper } from '../../scripts/build-helper.mjs'

export default function setup(): void {
  writeHelper()
}
