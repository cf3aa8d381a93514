// The virtual board: a device's firmware on the device end of a PTY pair.
//
//   node --import tsx devices/board/main.ts --tty <pty> --flash-dir <dir> --serial <SN> [--config <json>]
//
// The process is the board's power: it runs until killed (power off), SIGTERM/SIGINT, or until
// its stdin closes, so a harness that dies (and with it the stdin pipe) leaves no stray board.
// Use --keep-stdin to run it by hand with stdin at /dev/null.
import { parseArgs } from "node:util";
import { SerialPort } from "serialport";
import { loadConfig } from "./config.ts";
import { Console } from "./console.ts";
import { Flash } from "./flash.ts";
import { Firmware } from "./firmware.ts";
import { stdioWriteProbe } from "./write-probe.ts";

const USAGE = "usage: main.ts --tty <pty path> --flash-dir <dir> --serial <serial number> [--config <json file>] [--keep-stdin]";

function fail(message: string, code = 2): never {
  process.stderr.write(`virtual-board: ${message}\n`);
  process.exit(code);
}

function parse() {
  try {
    const { values } = parseArgs({
      options: {
        tty: { type: "string" },
        "flash-dir": { type: "string" },
        serial: { type: "string" },
        config: { type: "string" },
        "keep-stdin": { type: "boolean", default: false },
      },
    });
    if (!values.tty || !values["flash-dir"] || !values.serial) fail(USAGE);
    return { tty: values.tty, flashDir: values["flash-dir"], serial: values.serial, config: values.config, keepStdin: values["keep-stdin"] };
  } catch (err) {
    fail(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
}

async function main(): Promise<void> {
  const args = parse();
  const log = (msg: string) => process.stderr.write(`virtual-board ${args.serial}: ${msg}\n`);
  let config;
  try {
    config = loadConfig(args.config, log);
  } catch (err) {
    fail(`bad config ${args.config}: ${err instanceof Error ? err.message : String(err)}`);
  }

  // PTYs ignore the baud rate; `lock: false` so a restart right after a SIGKILL never sees EBUSY.
  const port = new SerialPort({ path: args.tty, baudRate: 115200, lock: false, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve()))).catch((err: unknown) =>
    fail(`cannot open ${args.tty}: ${err instanceof Error ? err.message : String(err)}`, 1),
  );
  port.on("error", (err) => log(`console error: ${err.message}`));

  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    port.drain(() => port.close(() => process.exit(0)));
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  if (!args.keepStdin) {
    process.stdin.on("end", shutdown);
    process.stdin.on("close", shutdown);
    process.stdin.on("error", shutdown);
  }

  const flash = new Flash(args.flashDir);
  // stdin also carries the write probe's hold/go (a flowing stream, so that EOF is seen too)
  flash.probe = stdioWriteProbe(process.stdin, process.stdout);
  let firmware: Firmware | undefined;
  const console = new Console(port, config, (line) => firmware?.onLine(line));
  firmware = new Firmware(flash, config, args.serial, console, log);
  log(`powered on: console ${args.tty}, flash ${args.flashDir}`);
  await firmware.start();
}

main().catch((err: unknown) => fail(`crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1));
