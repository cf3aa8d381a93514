// `rig doctor` for a network console: does the host accept a connection. It connects and leaves
// at once (a ser2net with `kickolduser` would hand the port to us: don't probe during a run).
import { parseConsoleUrl } from "./console-url.ts";
import { connectTo } from "./network-binding.ts";

export async function probeConsoleUrl(text: string, timeoutMs = 3000): Promise<{ ok: boolean; detail: string }> {
  const url = parseConsoleUrl(text);
  try {
    const socket = await connectTo(url, timeoutMs);
    socket.destroy();
    return { ok: true, detail: `console ${url.text} answers` };
  } catch (err) {
    return { ok: false, detail: `console ${(err as Error).message} (is ser2net running there, and the port exported?)` };
  }
}
