// A TCP server that answers HTTP requests with heads written by hand: answers a
// well-behaved server never sends (and Node's http module refuses to write),
// for the engines' strict parsing of what comes back.
import net from 'node:net'
import { withErrorListener } from '../support/listeners'

export interface RawAnswerServer {
  /** http://127.0.0.1:<port>/model.safetensors */
  url: string
  /** Every request head received, in order. */
  heads: string[]
  close(): Promise<void>
}

/** Answers the n-th request with answers[n] (the last one repeats), then closes the socket. */
export async function startRawAnswerServer(answers: string[]): Promise<RawAnswerServer> {
  const heads: string[] = []
  const sockets = new Set<net.Socket>()
  const srv = withErrorListener(
    net.createServer((sock) => {
      sockets.add(withErrorListener(sock))
      sock.on('close', () => sockets.delete(sock))
      let got = ''
      sock.on('data', (d) => {
        got += d.toString('latin1')
        if (!got.includes('\r\n\r\n')) return
        heads.push(got)
        sock.end(answers[Math.min(heads.length, answers.length) - 1]!)
      })
    })
  )
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as net.AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/model.safetensors`,
    heads,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy()
        srv.close(() => r())
      })
  }
}
