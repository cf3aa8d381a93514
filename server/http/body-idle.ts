// Request bodies may not stall: once the headers are in, the body must keep coming. A small body
// may pause a few seconds between bytes, an upload longer (an idle time, not a total, so a slow
// link still works). A stalled request gets 408 and its connection is closed, instead of holding
// a socket until the whole-request deadline.
import type { IncomingMessage, ServerResponse } from "node:http";

export function hasBody(req: IncomingMessage): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

/**
 * Arms the idle deadline for the request's body; `onIdle` runs when no byte came for `idleMs`.
 * Disarmed when the body is complete or the response is closed.
 */
export function watchBodyIdle(req: IncomingMessage, res: ServerResponse, idleMs: number, onIdle: () => void): void {
  if (!hasBody(req) || req.complete) return;
  // The socket's timeout: Node resets it on every byte read or written. On a timeout Node emits
  // 'timeout' on the response (and on the request while it is incomplete) and destroys the
  // socket only when nobody listens: the listener on the response keeps it, so a 408 can go out.
  const socket = req.socket;
  const fire = (): void => {
    res.off("timeout", fire);
    // Every byte arrived, unread by a handler that answers without it (a download with a
    // body, say): nothing stalled, and a slow reader of the answer is not cut off.
    if (req.complete) return void socket.setTimeout(0);
    onIdle();
  };
  // Body complete: no deadline while the answer goes out (unless it is already out, when Node's
  // keep-alive timer owns the socket's timeout).
  const onEnd = (): void => {
    res.off("timeout", fire);
    if (!res.writableFinished && !socket.destroyed) socket.setTimeout(0);
  };
  res.on("timeout", fire);
  socket.setTimeout(idleMs);
  req.once("end", onEnd);
  res.once("close", () => res.off("timeout", fire));
}

/** An upload handler, before it streams the body: the longer idle deadline applies. */
export function allowSlowBody(req: IncomingMessage, res: ServerResponse, idleMs: number): void {
  if (!req.complete && res.listenerCount("timeout") > 0) req.socket.setTimeout(idleMs);
}
