import { CONSOLE_HELP, FLASH_HELP, POWER_HELP, RESET_HELP } from "./board-help.ts";

export const HELP = `otarig — hardware-in-the-loop tests for over-the-air firmware updates

Usage:
  rig <scenario.yaml|dir>... [options]   run scenarios (same as "rig run")
  rig run <scenario.yaml|dir>... [options]
  rig validate <file>...                 check scenario, rig and profile files; touches nothing
  rig list [dir]                         list the scenarios under dir (default: scenarios/)
  rig doctor [rig.yaml]                  check this machine (and a rig's ports, relays, flashers)
  rig power <rig.yaml> <board> on|off|cycle   switch a board's power (shows the boot)
  rig reset <rig.yaml> <board>           reset a board (shows the boot)
  rig flash <rig.yaml> <board> <image>   flash an image onto a board
  rig console <rig.yaml> <board>         interactive serial console (Ctrl-] exits), logged
  rig help <command>                     options of one command

Run options:
  --out DIR           run directory (default runs/<UTC time>-<scenario>/; for several
                      scenarios, each gets DIR/<scenario>/ and DIR/junit.xml covers all)
  --server MODE       override the scenario's server mode: auto | container | process | url
  --rig FILE          run on this rig instead of the scenario's own (same board names and profiles)
  --keep-server       leave the OTA server running after the run (to poke at it)
  --retries N         retry a step that failed with an infrastructure error N times (default 0)
  --lock-timeout DUR  how long to wait for a board another run holds (default 10m)
  --console           print every line the boards print, live
  --no-color          plain output (also: NO_COLOR=1, or when stdout is not a terminal)

Exit codes: 0 all passed, 1 a test failed, 2 scenario or usage error,
            3 infrastructure error, 130 interrupted (Ctrl-C)
`;

const COMMAND_HELP: Record<string, string> = {
  run: HELP,
  validate: `Usage: rig validate <file>...

Checks scenario, rig and board profile files (the kind is detected from the content):
YAML syntax, keys, types, step names, durations, regexes, board and relay references,
variables. Prints every error as file:line:col: message. Starts nothing, opens no port.
Exit 0 when all files are valid, 2 otherwise.
`,
  power: POWER_HELP,
  reset: RESET_HELP,
  flash: FLASH_HELP,
  console: CONSOLE_HELP,
  doctor: `Usage: rig doctor [rig.yaml]

Checks Node.js, socat, the container engine and chromium; with a rig, also its ports,
relays, flasher programs and profiles, and for QEMU boards qemu-system-x86_64,
busybox-static and the guest kernel (npm run qemu:setup), and explains what to do about
each problem.
Exit 0 when all a rig needs is there, 3 otherwise.
`,
  list: `Usage: rig list [dir]

Lists the scenarios under dir (default scenarios/) with their descriptions.
`,
};

export function commandHelp(command: string): string {
  return COMMAND_HELP[command] ?? HELP;
}
