// Loopback stand-ins for the Hugging Face Hub and Civitai, answering with
// their real header and JSON shapes (Hub: X-Linked-Size / X-Linked-Etag /
// X-Repo-Commit on a 302 to the CDN, X-Error-Code GatedRepo / RepoNotFound /
// EntryNotFound, the tree API; Civitai: /api/v1/model-versions/V,
// /api/v1/models/ID, /api/v1/model-versions/by-hash/H, /api/download/models/V → 307 to the CDN or to
// /login?reason=download-auth; preview images and trigger words, the images on a
// host of their own like image.civitai.com). The bytes come from the model server (the CDN).
// Reached through HF_ENDPOINT and PODPULL_CIVITAI_ENDPOINT.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ModelServer, ServedFile } from './modelServer'
import { startXetCdn, type XetCdn } from './xetCdn'

export interface HubFile {
  path: string
  /** Served bytes (LFS): the Hub redirects to this CDN file. */
  cdn?: ServedFile
  /** A small git file (config.json): served by the Hub itself. */
  text?: string
}
export interface HubRepo {
  id: string
  files: HubFile[]
  gated?: boolean
  private?: boolean
  token?: string
  /** The commit `main` points at (default: one fixed commit for every repo). */
  commit?: string
  /** Other branches or tags → their commit. */
  branches?: Record<string, string>
  /** LFS files go through the Xet bridge CDN on 127.0.0.2 (xetCdn.ts), as the Hub serves them today. */
  xet?: boolean
  /** The model card's metadata (the model-info API's cardData). */
  card?: { license?: string; base_model?: string | string[] }
  pipelineTag?: string
}
export interface CivitaiFileSpec {
  cdn: ServedFile
  name: string
  type?: string
  primary?: boolean
  metadata?: { fp?: string; size?: string; format?: string }
}
export interface CivitaiVersionSpec {
  id: number
  name: string
  baseModel: string
  files: CivitaiFileSpec[]
  /** Downloads need the token, as `Authorization: Bearer <token>` or `?token=`
   *  (Civitai reads both); else the login redirect. */
  token?: string
  earlyAccessEndsAt?: string
  trainedWords?: string[]
  /** Preview pictures: paths on the image host (addImage), with Civitai's rating. */
  images?: { path: string; nsfwLevel?: number; width?: number; height?: number; type?: string }[]
}
export interface CivitaiModelSpec {
  id: number
  name: string
  type: string
  versions: CivitaiVersionSpec[]
}

export interface HubServers {
  hfUrl: string
  civitaiUrl: string
  addRepo(repo: HubRepo): void
  addCivitaiModel(model: CivitaiModelSpec): void
  /** The Xet bridge CDN (another host) that `xet` repos redirect to. */
  xet: XetCdn
  /** The next `times` resolve requests answer 429, saying when to come back with the
   *  IETF RateLimit header (`"resolvers";r=0;t=…`, as the Hub does) or with Retry-After. */
  limitResolves(o: { times: number; seconds: number; header: 'ratelimit' | 'retry-after' }): void
  /** Answer GETs of this path (either host) with this JSON instead: a hub gone wrong. */
  answerJson(path: string, body: unknown): void
  /** The image host (like image.civitai.com): serves what addImage put there. */
  imagesUrl: string
  /** An answer of the image host: its bytes and declared type; `redirect` answers 302 there. */
  addImage(path: string, image: { body?: Buffer; contentType?: string; redirect?: string }): void
  /** Request paths each host saw, with their Authorization header. */
  log: {
    host: 'hf' | 'civitai' | 'images'
    method: string
    path: string
    authorization?: string
    range?: string
    status?: number
  }[]
  close(): Promise<void>
}

/** The environment that points PodPull at these hubs, with each hub's host
 *  allowed its token (as PODPULL_HF_HOSTS / PODPULL_CIVITAI_HOSTS would). */
export function hubEnv(hub: Pick<HubServers, 'hfUrl' | 'civitaiUrl'>): NodeJS.ProcessEnv {
  return {
    HF_ENDPOINT: hub.hfUrl,
    PODPULL_CIVITAI_ENDPOINT: hub.civitaiUrl,
    PODPULL_HF_HOSTS: new URL(hub.hfUrl).host,
    PODPULL_CIVITAI_HOSTS: new URL(hub.civitaiUrl).host
  }
}

/** The commit `main` of every fake repo points at unless the repo names its own. */
export const HUB_COMMIT = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
const LOGIN =
  '<!doctype html><html><head><title>Civitai | Log in</title></head><body>Sign in</body></html>'

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body = ''
): void {
  res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) })
  res.end(res.req.method === 'HEAD' ? undefined : body)
}
const json = (res: ServerResponse, status: number, v: unknown, h: Record<string, string> = {}) =>
  send(res, status, { 'Content-Type': 'application/json; charset=utf-8', ...h }, JSON.stringify(v))

/** The commit a revision of the repo names: main, a branch, or one of its commits. */
function commitOf(repo: HubRepo, revision: string): string | undefined {
  const main = repo.commit ?? HUB_COMMIT
  const known: Record<string, string> = { main, ...repo.branches }
  if (Object.hasOwn(known, revision)) return known[revision]
  return Object.values(known).includes(revision) ? revision : undefined
}

function revisionNotFound(res: ServerResponse): void {
  const msg = 'Invalid rev id'
  json(res, 404, { error: msg }, { 'X-Error-Code': 'RevisionNotFound', 'X-Error-Message': msg })
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r, fail) => {
    server.on('error', fail) // kept for the server's life
    server.listen(0, '127.0.0.1', r)
  })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

export async function startHubServers(_cdn: ModelServer): Promise<HubServers> {
  const repos = new Map<string, HubRepo>()
  const versions = new Map<number, { model: CivitaiModelSpec; v: CivitaiVersionSpec }>()
  const models = new Map<number, CivitaiModelSpec>()
  const log: HubServers['log'] = []
  const urls = { hf: '', civitai: '', images: '' }
  const pictures = new Map<string, { body?: Buffer; contentType?: string; redirect?: string }>()
  const canned = new Map<string, unknown>()
  const xet = await startXetCdn()
  const limit = { times: 0, seconds: 0, header: 'ratelimit' as 'ratelimit' | 'retry-after' }
  /** Logs a request (path and Authorization) and returns its parsed URL. */
  const logged = (host: 'civitai' | 'images', req: IncomingMessage): URL => {
    const u = new URL(req.url ?? '/', 'http://x')
    log.push({
      host,
      method: req.method ?? '',
      path: u.pathname,
      authorization: req.headers.authorization
    })
    return u
  }
  /** A canned answer for this path; true when it answered. */
  const cannedAnswer = (path: string, res: ServerResponse): boolean =>
    canned.has(path) ? (json(res, 200, canned.get(path)), true) : false

  function hfDenied(repo: HubRepo | undefined, req: IncomingMessage, res: ServerResponse): boolean {
    const authed = repo?.token !== undefined && req.headers.authorization === `Bearer ${repo.token}`
    if (!repo || (repo.private && !authed)) {
      json(
        res,
        401,
        { error: 'Repository not found' },
        {
          'X-Error-Code': 'RepoNotFound',
          'X-Error-Message': 'Repository not found'
        }
      )
      return true
    }
    if (repo.gated && !authed) {
      const msg = `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`
      json(res, 401, { error: msg }, { 'X-Error-Code': 'GatedRepo', 'X-Error-Message': msg })
      return true
    }
    return false
  }

  const hf = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x')
    const entry: HubServers['log'][number] = {
      host: 'hf',
      method: req.method ?? '',
      path: u.pathname,
      authorization: req.headers.authorization,
      range: req.headers.range
    }
    log.push(entry)
    res.once('finish', () => (entry.status = res.statusCode))
    if (cannedAnswer(u.pathname, res)) return
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)(?:\/(.*))?$/.exec(u.pathname)
    if (tree) {
      const repo = repos.get(tree[1]!)
      if (hfDenied(repo?.gated ? { ...repo, gated: false } : repo, req, res)) return // gated repos list publicly
      const under = tree[3] ? `${decodeURIComponent(tree[3])}/` : ''
      const out = repo!.files
        .filter((f) => f.path.startsWith(under))
        .map((f) =>
          f.cdn
            ? {
                type: 'file',
                oid: '0'.repeat(40),
                size: f.cdn.size,
                path: f.path,
                lfs: { oid: f.cdn.sha256, size: f.cdn.size, pointerSize: 135 }
              }
            : {
                type: 'file',
                oid: '1'.repeat(40),
                size: Buffer.byteLength(f.text ?? ''),
                path: f.path
              }
        )
      return json(res, 200, out)
    }
    const rev = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(u.pathname)
    if (rev) {
      // Model info: public for gated repos (their pages list files), like the tree.
      const repo = repos.get(rev[1]!)
      if (hfDenied(repo?.gated ? { ...repo, gated: false } : repo, req, res)) return
      const sha = commitOf(repo!, decodeURIComponent(rev[2]!))
      if (!sha) return revisionNotFound(res)
      const blobs = u.searchParams.get('blobs') === 'true'
      return json(res, 200, {
        id: repo!.id,
        sha,
        gated: repo!.gated ? 'manual' : false,
        private: Boolean(repo!.private),
        ...(repo!.pipelineTag ? { pipeline_tag: repo!.pipelineTag } : {}),
        ...(repo!.card ? { cardData: repo!.card } : {}),
        siblings: repo!.files.map((f) =>
          !blobs
            ? { rfilename: f.path }
            : f.cdn
              ? {
                  rfilename: f.path,
                  blobId: '0'.repeat(40),
                  size: f.cdn.size,
                  lfs: { sha256: f.cdn.sha256, size: f.cdn.size, pointerSize: 135 }
                }
              : { rfilename: f.path, blobId: '1'.repeat(40), size: Buffer.byteLength(f.text ?? '') }
        )
      })
    }
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(u.pathname)
    if (!m) return json(res, 404, { error: 'Not found' })
    const repo = repos.get(m[1]!)
    if (limit.times > 0) {
      limit.times--
      const h: Record<string, string> =
        limit.header === 'ratelimit'
          ? {
              RateLimit: `"resolvers";r=0;t=${limit.seconds}`,
              'RateLimit-Policy': '"fixed window";"resolvers";q=3000;w=300'
            }
          : { 'Retry-After': String(limit.seconds) }
      return json(res, 429, { error: 'Too Many Requests' }, h)
    }
    if (hfDenied(repo, req, res)) return
    const commit = commitOf(repo!, decodeURIComponent(m[2]!))
    if (!commit) return revisionNotFound(res)
    const file = repo!.files.find((f) => f.path === decodeURIComponent(m[3]!))
    if (!file)
      return json(
        res,
        404,
        { error: 'Entry not found' },
        { 'X-Error-Code': 'EntryNotFound', 'X-Error-Message': 'Entry not found' }
      )
    if (file.cdn) {
      // A Range on the resolve request binds the Xet link to that range.
      const range = [req.headers.range].flat()[0]
      const location = repo!.xet
        ? xet.link(file.cdn, range)
        : `${file.cdn.secondUrl}?X-Amz-Signature=cdnsig`
      return send(res, 302, {
        Location: location,
        'X-Linked-Size': String(file.cdn.size),
        'X-Linked-Etag': `"${file.cdn.sha256}"`,
        'X-Repo-Commit': commit,
        ETag: `"${file.cdn.sha256}"`
      })
    }
    send(
      res,
      200,
      {
        'Content-Type': 'text/plain; charset=utf-8',
        ETag: `"${'1'.repeat(40)}"`,
        'X-Repo-Commit': commit
      },
      file.text ?? ''
    )
  })

  function versionJson(model: CivitaiModelSpec, v: CivitaiVersionSpec) {
    return {
      id: v.id,
      modelId: model.id,
      name: v.name,
      baseModel: v.baseModel,
      availability: v.earlyAccessEndsAt ? 'EarlyAccess' : 'Public',
      earlyAccessEndsAt: v.earlyAccessEndsAt ?? null,
      model: { name: model.name, type: model.type, nsfw: false, poi: false },
      downloadUrl: `https://civitai.com/api/download/models/${v.id}`,
      trainedWords: v.trainedWords ?? [],
      images: (v.images ?? []).map((i) => ({
        url: `${urls.images}${i.path}`,
        nsfwLevel: i.nsfwLevel ?? 1,
        width: i.width ?? 832,
        height: i.height ?? 1216,
        hash: 'U5F~gc00~q4n',
        type: i.type ?? 'image'
      })),
      files: v.files.map((f, i) => ({
        id: v.id * 10 + i,
        sizeKB: f.cdn.size / 1024,
        name: f.name,
        type: f.type ?? 'Model',
        pickleScanResult: 'Success',
        virusScanResult: 'Success',
        metadata: {
          fp: f.metadata?.fp ?? 'fp16',
          size: f.metadata?.size ?? 'pruned',
          format: f.metadata?.format ?? 'SafeTensor'
        },
        hashes: {
          AutoV2: f.cdn.sha256.slice(0, 10).toUpperCase(),
          SHA256: f.cdn.sha256.toUpperCase(),
          CRC32: 'DEADBEEF'
        },
        primary: f.primary ?? i === 0,
        downloadUrl: `https://civitai.com/api/download/models/${v.id}?type=${f.type ?? 'Model'}&format=${f.metadata?.format ?? 'SafeTensor'}&size=${f.metadata?.size ?? 'pruned'}&fp=${f.metadata?.fp ?? 'fp16'}`
      }))
    }
  }

  const civ = createServer((req, res) => {
    const u = logged('civitai', req)
    if (cannedAnswer(u.pathname, res)) return
    // By a file's SHA256 or AutoV2, any case; Civitai's 404 body when none has it.
    let m = /^\/api\/v1\/model-versions\/by-hash\/([^/]+)$/.exec(u.pathname)
    if (m) {
      const h = decodeURIComponent(m[1]!).toLowerCase()
      for (const found of versions.values())
        if (found.v.files.some((f) => f.cdn.sha256 === h || f.cdn.sha256.slice(0, 10) === h))
          return json(res, 200, versionJson(found.model, found.v))
      return json(res, 404, { error: 'Model not found' })
    }
    m = /^\/api\/v1\/model-versions\/(\d+)$/.exec(u.pathname)
    if (m) {
      const found = versions.get(Number(m[1]))
      if (!found) return json(res, 404, { error: `No model version with id ${m[1]}` })
      return json(res, 200, versionJson(found.model, found.v))
    }
    m = /^\/api\/v1\/models\/(\d+)$/.exec(u.pathname)
    if (m) {
      const model = models.get(Number(m[1]))
      if (!model) return json(res, 404, { error: `No model with id ${m[1]}` })
      return json(res, 200, {
        id: model.id,
        name: model.name,
        type: model.type,
        nsfw: false,
        modelVersions: model.versions.map((v) => {
          const { model: _drop, ...rest } = versionJson(model, v)
          return rest
        })
      })
    }
    m = /^\/api\/download\/models\/(\d+)$/.exec(u.pathname)
    if (m) {
      const found = versions.get(Number(m[1]))
      if (!found) return json(res, 404, { error: 'Model not found' })
      const { v } = found
      const given = req.headers.authorization ?? `Bearer ${u.searchParams.get('token')}`
      if (v.token !== undefined && given !== `Bearer ${v.token}`) {
        if (v.earlyAccessEndsAt)
          return json(res, 401, { error: 'Unauthorized', message: 'This model is in early access' })
        return send(res, 307, {
          Location: `${urls.civitai}/login?returnUrl=%2Fmodels&reason=download-auth`
        })
      }
      // Civitai's choice: the file `fileId` names, else the one matching the
      // type/format/size/fp given, else the primary.
      const q = u.searchParams
      const meta = (x: CivitaiFileSpec, k: 'fp' | 'size' | 'format') =>
        x.metadata?.[k] ?? { fp: 'fp16', size: 'pruned', format: 'SafeTensor' }[k]
      const byId = q.get('fileId')
        ? v.files.find((_, i) => String(v.id * 10 + i) === q.get('fileId'))
        : undefined
      const f =
        byId ??
        v.files.find(
          (x) =>
            (x.type ?? 'Model') === (q.get('type') ?? 'Model') &&
            (['fp', 'size', 'format'] as const).every((k) => !q.get(k) || meta(x, k) === q.get(k))
        ) ??
        v.files.find((x) => x.primary) ??
        v.files[0]!
      return send(res, 307, { Location: `${f.cdn.secondUrl}?X-Amz-Signature=cdnsig` })
    }
    if (u.pathname === '/login')
      return send(res, 200, { 'Content-Type': 'text/html; charset=utf-8' }, LOGIN)
    json(res, 404, { error: 'Not found' })
  })

  const img = createServer((req, res) => {
    const u = logged('images', req)
    const p = pictures.get(u.pathname)
    if (!p) return json(res, 404, { error: 'Not found' })
    if (p.redirect) return send(res, 302, { Location: p.redirect })
    const body = p.body ?? Buffer.alloc(0)
    res.writeHead(200, {
      'Content-Type': p.contentType ?? 'image/png',
      'Content-Length': String(body.length)
    })
    res.end(req.method === 'HEAD' ? undefined : body)
  })

  urls.hf = await listen(hf)
  urls.civitai = await listen(civ)
  urls.images = await listen(img)
  return {
    hfUrl: urls.hf,
    civitaiUrl: urls.civitai,
    imagesUrl: urls.images,
    addImage: (path, image) => void pictures.set(path, image),
    addRepo: (r) => void repos.set(r.id, r),
    answerJson: (path, body) => void canned.set(path, body),
    xet,
    limitResolves: (o) => void Object.assign(limit, o),
    addCivitaiModel: (model) => {
      models.set(model.id, model)
      for (const v of model.versions) versions.set(v.id, { model, v })
    },
    log,
    close: async () => {
      hf.closeAllConnections()
      civ.closeAllConnections()
      img.closeAllConnections()
      await Promise.all([
        new Promise((r) => hf.close(r)),
        new Promise((r) => civ.close(r)),
        new Promise((r) => img.close(r)),
        xet.close()
      ])
    }
  }
}
