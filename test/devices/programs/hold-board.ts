// Starts a virtual board, powers it on and waits forever: a harness that the test then kills.
import { startVirtualBoard } from "../../../harness/board/virtual/virtual-board.ts";

const workDir = process.argv[2];
if (!workDir) throw new Error("usage: hold-board.ts <workDir>");
const board = await startVirtualBoard({ name: "dut", serialNumber: "VB-HOLD", workDir });
await board.power.on();
process.stdout.write("ready\n");
setInterval(() => {}, 1000);
