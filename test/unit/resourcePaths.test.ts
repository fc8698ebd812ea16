// One function finds the bundled resources in every layout: packaged
// (process.resourcesPath, outside app.asar), the built tree and the source tree.
import { posix, win32 } from 'node:path'
import { describe, expect, it } from 'vitest'
import { builtCandidates, findResource, resourceCandidates } from '../../src/main/resourcePaths'

const HELPER = 'helper/podpull_helper.pyz'

describe('resource paths', () => {
  it('packaged on Windows: resources sit in process.resourcesPath, not inside app.asar', () => {
    const res = 'C:\\Program Files\\PodPull\\resources'
    const layout = {
      bundleDir: `${res}\\app.asar\\out\\main`,
      resourcesPath: res,
      join: win32.join
    }
    const want = `${res}\\helper\\podpull_helper.pyz`
    expect(findResource(HELPER, layout, (p) => p === want)).toBe(want)
    expect(findResource('icon.png', layout, (p) => p === `${res}\\icon.png`)).toBe(
      `${res}\\icon.png`
    )
  })

  it('packaged on macOS, with a space in the path', () => {
    const res = '/Applications/Pod Pull.app/Contents/Resources'
    const layout = { bundleDir: `${res}/app.asar/out/main`, resourcesPath: res, join: posix.join }
    const want = `${res}/helper/podpull_helper.pyz`
    expect(findResource(HELPER, layout, (p) => p === want)).toBe(want)
  })

  it('dev and built layouts: beside out/ (out/main and out/main/chunks alike)', () => {
    const repo = '/home/ana/podpull'
    const want = `${repo}/resources/icon.png`
    const exists = (p: string): boolean => p === want
    expect(
      findResource('icon.png', { bundleDir: `${repo}/out/main`, join: posix.join }, exists)
    ).toBe(want)
    expect(
      findResource('icon.png', { bundleDir: `${repo}/out/main/chunks`, join: posix.join }, exists)
    ).toBe(want)
    expect(
      findResource('icon.png', { bundleDir: `${repo}/src/main/ssh`, join: posix.join }, exists)
    ).toBe(want)
  })

  it('an explicit override comes first; a missing resource is undefined', () => {
    const layout = { bundleDir: '/x/out/main', override: '/opt/helper.pyz', join: posix.join }
    expect(resourceCandidates(HELPER, layout)[0]).toBe('/opt/helper.pyz')
    expect(findResource(HELPER, layout, () => false)).toBeUndefined()
  })

  it('a build product (the helper .pyz) is found in out/ from the built and the source tree', () => {
    const repo = '/home/ana/podpull'
    const want = `${repo}/out/helper/podpull_helper.pyz`
    const exists = (p: string): boolean => p === want
    for (const bundleDir of [
      `${repo}/out/main`,
      `${repo}/out/main/chunks`,
      `${repo}/src/main/ssh`
    ]) {
      const found = builtCandidates(HELPER, { bundleDir, join: posix.join }).find(exists)
      expect(found).toBe(want)
    }
    const res = '/opt/PodPull/resources'
    const packaged = { bundleDir: `${res}/app.asar/out/main`, resourcesPath: res, join: posix.join }
    expect(builtCandidates(HELPER, packaged)[0]).toBe(`${res}/helper/podpull_helper.pyz`)
  })
})
