// Password login to a real sshd (UsePAM no) checks the account's entry in
// /etc/shadow, so a password test has to set it. Only root can; the old hash
// is put back when the sshd stops. The password goes through stdin, never argv.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

export type PasswordRestore = () => void

function chpasswd(line: string, encrypted: boolean): void {
  execFileSync('chpasswd', encrypted ? ['-e'] : [], { input: line + '\n', stdio: 'pipe' })
}

export function setPassword(user: string, password: string): PasswordRestore {
  if (process.getuid?.() !== 0)
    throw new Error(
      'A password-login sshd needs root (it sets the account password); use key auth instead'
    )
  if (/[:\n]/.test(password)) throw new Error('The test password must not contain ":" or newlines')
  const entry = readFileSync('/etc/shadow', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`))
  if (!entry) throw new Error(`No /etc/shadow entry for ${user}`)
  const [, oldHash = '*', lastChange = ''] = entry.split(':')
  chpasswd(`${user}:${password}`, false)
  let restored = false
  return () => {
    if (restored) return
    restored = true
    chpasswd(`${user}:${oldHash}`, true)
    // chpasswd stamps today as the last change; put the old date back too.
    execFileSync('chage', ['-d', lastChange === '' ? '-1' : lastChange, user], { stdio: 'pipe' })
  }
}
