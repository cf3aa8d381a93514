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
  // The socket's timeout: Node resets it on every byte read or written; a listener on the
  // request keeps Node from destroying the socket itself, so the 408 can still go out.
  const socket = req.socket;
  const fire = (): void => {
    req.off("timeout", fire);
    onIdle();
  };
  // Body complete: no deadline while the answer goes out (unless it is already out, when Node's
  // keep-alive timer owns the socket's timeout).
  const onEnd = (): void => {
    req.off("timeout", fire);
    if (!res.writableFinished && !socket.destroyed) socket.setTimeout(0);
  };
  req.setTimeout(idleMs, fire);
  req.once("end", onEnd);
  res.once("close", () => req.off("timeout", fire));
}

/** An upload handler, before it streams the body: the longer idle deadline applies. */
export function allowSlowBody(req: IncomingMessage, idleMs: number): void {
  if (!req.complete && req.listenerCount("timeout") > 0) req.socket.setTimeout(idleMs);
}
