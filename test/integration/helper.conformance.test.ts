// The download conformance table, run by the pod helper on this machine
// (python3 on the built zipapp of resources/helper, as the app uploads it).
import { defineConformance } from '../conformance/scenarios'
import { localHelperDriver } from '../conformance/helperDriver'

defineConformance(async () => localHelperDriver())
