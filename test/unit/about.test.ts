// About: the versions a bug report needs and where settings and logs live,
// under Electron and under plain Node alike.
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { aboutInfo } from '../../src/main/core/about'
import { aboutText } from '../../src/main/electron/appMenu'

describe('About', () => {
  it('under Electron: app, Electron, Node, Chromium and helper versions, and the locations', () => {
    const home = join('/home', 'ana', '.config', 'PodPull')
    const a = aboutInfo(
      { ...process.versions, electron: '45.4.1', chrome: '142.0.7444.59' },
      home,
      () => '0.1.0'
    )
    expect(a).toMatchObject({
      app: expect.stringMatching(/^\d+\.\d+\.\d+/),
      electron: '45.4.1',
      node: process.versions.node,
      chromium: '142.0.7444.59',
      helper: '0.1.0',
      settingsFile: join(home, 'config.json'),
      logsDir: join(home, 'logs')
    })
    expect(aboutText(a).detail).toContain('Electron 45.4.1')
    expect(aboutText(a).detail).toContain(`Settings: ${join(home, 'config.json')}`)
  })

  it('under plain Node and without a helper, says so instead of failing', () => {
    const a = aboutInfo(process.versions, '/h', () => {
      throw new Error('The pod helper is missing')
    })
    expect(a).toMatchObject({ electron: null, chromium: null, helper: null })
    expect(aboutText(a).detail).toContain('Pod helper missing')
  })

  it('reads the real helper’s version by default', () => {
    expect(aboutInfo().helper).toMatch(/^\d+\.\d+\.\d+$/)
  })
})
