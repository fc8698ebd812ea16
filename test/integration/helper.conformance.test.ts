// The download conformance table, run by the pod helper on this machine
// (python3 on the real resources/helper/podpull_helper.py).
import { defineConformance } from '../conformance/scenarios'
import { localHelperDriver } from '../conformance/helperDriver'

defineConformance(async () => localHelperDriver())
