// The download conformance table, run by the TypeScript engine through a real
// LocalTarget (queue, status file, install), as a click in the app runs it.
import { defineConformance } from '../conformance/scenarios'
import { localTargetDriver } from '../conformance/localDriver'

defineConformance(async () => localTargetDriver())
