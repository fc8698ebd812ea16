/// <reference types="vite/client" />
import type { PodPullBridge } from '../shared/api'

declare global {
  interface Window {
    /** Present in Electron (the preload); absent in a plain browser. */
    podpull?: PodPullBridge
  }
}
