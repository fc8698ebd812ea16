// The plain-Node store (CLI and headless server). The Electron app builds an
// electron-store with the same options (src/main/electron/store.ts).
import Conf from 'conf'
import { appHome } from './appHome'
import { parsedOnce } from './parsedOnce'
import { storeOptions, type StoreShape } from './storeSchema'

export type AppStore = Conf<StoreShape>

export function createNodeStore(home = appHome()): AppStore {
  return parsedOnce(new Conf<StoreShape>(storeOptions(home)))
}
