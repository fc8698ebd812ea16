// redactText(): what keeps tokens and signed-URL values out of the app log and
// the diagnostics archive, through the same stripSecrets() the status file uses.
import { describe, expect, it } from 'vitest'
import { redactText } from '../../src/main/diagnostics/redact'

describe('redactText', () => {
  it('strips secret query values and credentials from every URL in the text', () => {
    const out = redactText(
      'GET https://user:pw@cdn.example/m.safetensors?X-Amz-Signature=abc123&part=2 failed; ' +
        'retry "https://civitai.com/api/download/models/1?token=civtok99" later'
    )
    expect(out).not.toMatch(/abc123|civtok99|user:pw/)
    expect(out).toContain('https://cdn.example/m.safetensors?part=2')
    expect(out).toContain('https://civitai.com/api/download/models/1')
  })

  it('masks token shapes, header values, key=value secrets and known secret values', () => {
    const out = redactText(
      'hf_AbCdEfGhIjKlMnOp Authorization: Bearer eyJhbGciOi.x.y {"api_key":"k-123456"} ' +
        'passphrase=hunter2hunter my own s3cr3t-value',
      ['s3cr3t-value']
    )
    for (const s of [
      'hf_AbCdEfGhIjKlMnOp',
      'eyJhbGciOi',
      'k-123456',
      'hunter2hunter',
      's3cr3t-value'
    ])
      expect(out).not.toContain(s)
    expect(out).toContain('Bearer [redacted]')
    expect(out).toContain('my own [redacted]')
  })

  it('leaves ordinary text alone', () => {
    const line = 'Downloaded loras/a.safetensors (12.0 MB) from http://127.0.0.1:8080/a.safetensors'
    expect(redactText(line)).toBe(line)
  })
})
