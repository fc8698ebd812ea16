// A Node module hook that answers `import … from 'electron'` with a stub, so
// the built shell can be linked and started by Node's own ESM loader (the
// loader Electron uses for an ESM main) — no vitest transform in between.
// The stub loses the single-instance lock, so the shell quits at once.
import { register } from 'node:module'

const STUB = `
const app = {
  requestSingleInstanceLock: () => false,
  quit: () => { console.log('podpull-shell: quit'); },
  on: () => app, whenReady: () => new Promise(() => {}), getPath: () => '/tmp', getVersion: () => '0'
};
const protocol = { registerSchemesAsPrivileged: (s) => console.log('podpull-shell: schemes ' + s.map((x) => x.scheme)) };
const none = new Proxy({}, { get: () => () => undefined });
export { app, protocol };
export const BrowserWindow = class {}, Tray = class {}, Notification = class {};
export const ipcMain = none, session = none, Menu = none, safeStorage = none, dialog = none, shell = none, nativeImage = none;
export default { app, protocol, ipcMain, session, Menu, safeStorage, dialog, shell, nativeImage };
`

register(
  'data:text/javascript,' +
    encodeURIComponent(`
      export async function resolve(spec, ctx, next) {
        if (spec === 'electron') return { url: 'podpull-stub:electron', shortCircuit: true };
        return next(spec, ctx);
      }
      export async function load(url, ctx, next) {
        if (url === 'podpull-stub:electron')
          return { format: 'module', source: ${JSON.stringify(STUB)}, shortCircuit: true };
        return next(url, ctx);
      }`)
)
