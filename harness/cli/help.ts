import { ATTACH_HELP, CONSOLE_HELP, FLASH_HELP, POWER_HELP, RESET_HELP, RESUME_HELP } from "./board-help.ts";
import { MERGE_HELP, REPORT_HELP } from "./lab-help.ts";

export const HELP = `otarig — hardware-in-the-loop tests for over-the-air firmware updates

Usage:
  rig <scenario.yaml|dir>... [options]   run scenarios (same as "rig run")
  rig run <scenario.yaml|dir>... [options]
  rig validate <file|dir>...             check scenario, rig and profile files; touches nothing
  rig list [dir]                         list the scenarios under dir (default: scenarios/)
  rig doctor [rig.yaml]                  check this machine (and a rig's ports, relays, flashers, network)
  rig power <rig.yaml> <board> on|off|cycle   switch a board's power (shows the boot)
  rig reset <rig.yaml> <board>           reset a board (shows the boot)
  rig flash <rig.yaml> <board> <image>   flash an image onto a board
  rig console <rig.yaml> <board>         interactive serial console (Ctrl-] exits), logged
  rig attach <run dir> <board>           console, --power, --reset on a board of a held run
  rig resume <run dir>                   let a held run go on to teardown and reports
  rig report <run dir>...                rebuild report.html from a run directory's files
  rig merge <out dir> <shard dir>...     merge the run directories of shards into one
  rig locks [rig.yaml]                   who holds which port and relay channel; stale locks
  rig raw <board.log>:<line>             that log line's bytes in <board>.raw (offset, hex dump)
  rig help <command>                     options of one command
  rig help steps | step <name>           every scenario step and its parameters, or one

Run options:
  --out DIR           run directory (default runs/<UTC time>-<scenario>/; for several
                      scenarios, each gets DIR/<scenario>/ and DIR/junit.xml covers all)
  --server MODE       override the scenario's server mode: auto | container | process | url
  --rig FILE          run on this rig instead of the scenario's own (same board names and profiles)
  --keep-server       leave the OTA server running after the run (to poke at it)
  --retries N         run a scenario again, up to N times, after an attempt failed with an
                      infrastructure error (every attempt is reported; default 0)
  --lock-timeout DUR  how long to wait for a board another run holds (default 10m)
  --console           print every line the boards print, live
  --headed            show the browser of browser steps (needs a display; default headless)
  --no-color          plain output (also: NO_COLOR=1, or when stdout is not a terminal)
  --shard i/n         run only shard i of n of the scenarios (deterministic; for CI matrices)
  --durations FILE    with --shard: balance shards by the durations in an earlier result.json
  --raw-secrets       keep <board>.raw in a run whose scenario has secrets (it holds them raw)
  --pause-on-failure  after a failed step, hold the run as it is (boards powered, consoles
                      captured, server up, locks held) for rig attach, until Enter, Ctrl-C or
                      rig resume; needs a terminal (refused in CI)
  --serve [PORT]      serve the run's report page live on http://127.0.0.1:PORT/ (default: a
                      free port, printed) while the run goes on; at the end it is the report

Exit codes: 0 all passed, 1 a test failed, 2 scenario or usage error,
            3 infrastructure error, 130 interrupted (Ctrl-C)
`;

const COMMAND_HELP: Record<string, string> = {
  run: HELP,
  validate: `Usage: rig validate <file|dir>...

Checks scenario, rig and board profile files (the kind is detected from the content; a
directory means the *.yaml files in it): YAML syntax, keys, types, step names, durations,
regexes, board and relay references, variables, and that the files a scenario names exist
(images to flash, files to upload, its rig and profiles): all a run would reject before
touching anything. Prints every error as file:line:col: message. Starts nothing, opens no port.
Exit 0 when all files are valid, 2 otherwise.
`,
  raw: `Usage: rig raw <run dir>/<board>.log:<line> [--bytes N]

Finds a line of a board log in the byte-exact <board>.raw beside it: prints its offset and
length, the terminator the board sent (\\r\\n, \\n or \\r), and its bytes as a hex dump (at most
N, default 512). For a marker line (console lost, back, closed) it prints the .raw offset at
that moment. Exit 0, or 2 when a file is missing or the two files do not belong together.
`,
  power: POWER_HELP,
  reset: RESET_HELP,
  flash: FLASH_HELP,
  console: CONSOLE_HELP,
  attach: ATTACH_HELP,
  resume: RESUME_HELP,
  report: REPORT_HELP,
  merge: MERGE_HELP,
  doctor: `Usage: rig doctor [rig.yaml]

Checks Node.js, socat, the container engine and chromium; with a rig, also its ports,
relays, flasher programs and profiles, its network: the address boards reach this
runner at, whether it is on this host, whether the port range is free, and whether isolated
virtual boards can be made here, and for QEMU boards qemu-system-x86_64, busybox-static and
the guest kernel (npm run qemu:setup). Explains what to do about each problem.
Exit 0 when all a rig needs is there, 3 otherwise.
`,
  locks: `Usage: rig locks [rig.yaml] [--dir DIR]

Lists the locks in the lock directory (the rig's lock_dir, else /var/lock/otarig, else the
per-user ~/.cache/otarig/locks): the physical thing (port, relay channel), who holds it
(PID, user, host, command) and since when, and which are stale (holder gone, PID reused,
lease expired): the next run that needs the thing takes those over.
`,
  list: `Usage: rig list [dir]

Lists the scenarios under dir (default scenarios/) with their descriptions.
`,
};

export function commandHelp(command: string): string {
  return COMMAND_HELP[command] ?? HELP;
}
