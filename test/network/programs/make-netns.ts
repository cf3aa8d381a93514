// A run that makes an isolated network and then waits to be killed (test of stale removal).
import { createIsolatedNetwork } from "../../../harness/board/network/netns.ts";

const net = await createIsolatedNetwork();
process.stdout.write(`namespace ${net.namespace}\n`);
setInterval(() => {}, 60_000);
