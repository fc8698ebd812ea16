// When the tray exists and what its menu says. The tray keeps PodPull
// reachable while downloads run with the window closed; once they stop, it
// stays only while the window is hidden (otherwise the app would be running
// with neither a window nor a tray). Pure, so it is unit-tested.
export type TrayStep = 'create' | 'update' | 'destroy' | 'none'

export function trayStep(active: number, hasTray: boolean, windowVisible: boolean): TrayStep {
  if (active > 0) return hasTray ? 'update' : 'create'
  if (!hasTray) return 'none'
  return windowVisible ? 'destroy' : 'update'
}

export function trayLabel(active: number): string {
  if (active === 0) return 'No downloads running'
  return `${active} download${active === 1 ? '' : 's'} running`
}

/** Closing the window hides it to the tray only while downloads run (and we aren't quitting). */
export const hideOnClose = (active: number, quitting: boolean): boolean => !quitting && active > 0
