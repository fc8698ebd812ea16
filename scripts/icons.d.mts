// Types of scripts/icons.mjs for electron.vite.config.ts.
export function writeTrayIcon(): void
export function writeAppIcons(): void
