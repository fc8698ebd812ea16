// Turns what ssh2 and the socket throw into one sentence a user can act on.
import { UserError } from '../errors'

interface SshLikeError extends Error {
  code?: string
  level?: string
}

export function describeSshError(err: unknown, where: string, user: string): UserError {
  if (err instanceof UserError) return err
  const e = (err instanceof Error ? err : new Error(String(err))) as SshLikeError
  switch (e.code) {
    case 'ECONNREFUSED':
      return new UserError(
        'unreachable',
        `${where} refused the SSH connection: is the pod running and is SSH exposed on that port?`
      )
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UserError('unreachable', `The pod address in ${where} could not be resolved.`)
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new UserError('unreachable', `${where} cannot be reached from this machine.`)
    case 'ETIMEDOUT':
      return new UserError('timeout', `Timed out connecting to ${where}.`)
    case 'ECONNRESET':
      return new UserError('unreachable', `${where} closed the connection.`)
  }
  if (e.level === 'client-timeout')
    return new UserError('timeout', `Timed out connecting to ${where}.`)
  if (e.level === 'client-authentication') {
    return new UserError(
      'ssh-auth',
      `SSH login as ${user} on ${where} failed: the pod did not accept the key, agent or password.`
    )
  }
  if (e.level === 'agent')
    return new UserError('ssh-auth', `The SSH agent could not sign for ${where}: ${e.message}`)
  return new UserError('ssh', `SSH to ${where} failed: ${e.message}`)
}

/** Errors that retrying cannot fix: the user must act (confirm a key, fix a login). */
export function isFatalSshError(err: UserError): boolean {
  return ['host-key-unknown', 'host-key-changed', 'ssh-auth', 'bad-request'].includes(err.code)
}
