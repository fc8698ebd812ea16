// The download conformance table, run by the pod helper over a real SSH
// connection (real sshd on loopback) through PodTarget, as the app runs it.
import { definePodConformance } from '../conformance/podConformance'

definePodConformance('helper over ssh')
