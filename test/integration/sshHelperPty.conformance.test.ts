// The download conformance table, run by the pod helper through ONE interactive
// terminal per connection: a real sshd configured like RunPod's proxy (ForceCommand
// refusing exec and PTY-less sessions, no SFTP, one channel per connection).
import { definePodConformance } from '../conformance/podConformance'

definePodConformance('helper over a PTY-only ssh proxy', { ptyOnly: true, maxSessions: 1 })
