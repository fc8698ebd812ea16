// `podpull targets set NAME --max-speed … --schedule …`: what it saves (the
// workspace's limits file, which every process downloading there reads), what
// it says, and the one-line refusal for each kind of bad input.
import { readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { assertBuilt, freshComfy, runCli } from '../support/cli'

const c = freshComfy(['loras'])
const env = { PODPULL_HOME: c.home, TZ: 'UTC' }
const limitsFile = join(dirname(c.comfy), '.podpull', 'limits.json')

beforeAll(async () => {
  assertBuilt()
  const add = await runCli(['targets', 'add-local', 'home', '--comfyui', c.comfy], env)
  expect(add.code, add.stderr).toBe(0)
})
afterAll(() => rmSync(c.base, { recursive: true, force: true }))

it('sets a cap and a schedule, writes the limits file and lists the cap in force', async () => {
  const r = await runCli(
    [
      'targets',
      'set',
      'home',
      '--max-speed',
      '5MB',
      '--schedule',
      '23:00-07:00=unlimited',
      '--time-zone',
      'Asia/Tokyo'
    ],
    env
  )
  expect(r.code, r.stderr).toBe(0)
  expect(r.stdout).toMatch(
    /^Bandwidth of "home": 5\.0 MB\/s; 23:00-07:00=unlimited \(Asia\/Tokyo\)\. In force now: (5\.0 MB\/s until 23:00|unlimited until 07:00)\.\n$/
  )
  const file = JSON.parse(readFileSync(limitsFile, 'utf8'))
  expect(file).toMatchObject({
    version: 1,
    max_speed: 5e6,
    schedule: [{ from: '23:00', to: '07:00', max_speed: null }],
    time_zone: 'Asia/Tokyo'
  })
  // 23:00 in Tokyo is 14:00 UTC: the helper's windows are absolute.
  const [from, to, cap] = file.windows[0]
  expect(new Date(from * 1000).getUTCHours()).toBe(14)
  expect(to - from).toBe(8 * 3600)
  expect(cap).toBeNull()

  // Only the schedule changes: the cap stays.
  const s = await runCli(['targets', 'set', 'home', '--schedule', 'none'], env)
  expect(s.stdout).toBe('Bandwidth of "home": 5.0 MB/s. In force now: 5.0 MB/s.\n')
  const list = await runCli(['targets', 'list'], env)
  expect(list.stdout).toMatch(/^home\tlocal\t.* {2}cap 5\.0 MB\/s\n$/)
  const off = await runCli(['targets', 'set', 'home', '--max-speed', 'unlimited'], env)
  expect(off.stdout).toBe('Bandwidth of "home": unlimited. In force now: unlimited.\n')
  expect(JSON.parse(readFileSync(limitsFile, 'utf8')).max_speed).toBeNull()
})

it.each([
  [['--max-speed', 'fast'], /^Error: "fast" is not a speed: write it like 5MB/],
  [
    ['--max-speed', '5MB', '--schedule', '1am-7am=unlimited'],
    /is not a time of day: write it like 01:00/
  ],
  [
    ['--schedule', '22:00-02:00=5MB,01:00-03:00=unlimited'],
    /windows 22:00-02:00 and 01:00-03:00 overlap/
  ],
  [['--max-speed', '5MB', '--time-zone', 'Mars/Olympus'], /"Mars\/Olympus" is not a time zone/],
  [[], /^Error: Say what to set: --max-speed 5MB/]
])('refuses %j with exit 2 and one clear line, changing nothing', async (args, message) => {
  const before = readFileSync(limitsFile, 'utf8')
  const r = await runCli(['targets', 'set', 'home', ...args], env)
  expect(r.code).toBe(2)
  expect(r.stderr).toMatch(message)
  expect(r.stderr.trim().split('\n')).toHaveLength(1)
  expect(readFileSync(limitsFile, 'utf8')).toBe(before)
})
