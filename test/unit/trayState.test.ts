// The tray: there while downloads run, and while the window is hidden, so
// PodPull is never running with neither a window nor a tray.
import { describe, expect, it } from 'vitest'
import { hideOnClose, trayLabel, trayStep } from '../../src/main/electron/trayState'

describe('tray', () => {
  it('appears when downloads start, whatever the window does', () => {
    expect(trayStep(1, false, true)).toBe('create')
    expect(trayStep(2, false, false)).toBe('create')
    expect(trayStep(3, true, false)).toBe('update')
  })

  it('when downloads stop: goes if the window is visible, stays if it is hidden', () => {
    expect(trayStep(0, true, true)).toBe('destroy')
    expect(trayStep(0, true, false)).toBe('update')
    expect(trayStep(0, false, false)).toBe('none')
  })

  it('says how many downloads run', () => {
    expect(trayLabel(0)).toBe('No downloads running')
    expect(trayLabel(1)).toBe('1 download running')
    expect(trayLabel(4)).toBe('4 downloads running')
  })

  it('closing the window hides it only while downloads run and we are not quitting', () => {
    expect(hideOnClose(1, false)).toBe(true)
    expect(hideOnClose(0, false)).toBe(false)
    expect(hideOnClose(1, true)).toBe(false)
  })
})
