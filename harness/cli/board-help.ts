// Help texts of the board commands (rig power / reset / flash / console). Plain text only, so
// help.ts can show them without loading any driver.

const COMMON = `Common options:
  --out DIR           log directory (default runs/<UTC time>-<command>-<board>/): <board>.log
                      holds every byte the board printed, run.log the rest (flasher output,
                      relay commands, lock waits)
  --lock-timeout DUR  how long to wait for the board when a run or another command holds its
                      lock (default 30s); then exit 3 naming the holder
  -h, --help          this text

Exit codes: 0 done, 2 usage or rig/profile error (file:line:col), 3 infrastructure error
            (port missing, relay silent, flasher failed, lock not acquired), 130 interrupted
`;

const VIRTUAL_NOTE = `Virtual boards (virtual: in the rig): a virtual board's power IS its firmware process, and
the virtual rig exists only while the command runs, so the board starts powered off and is
powered off again when the command exits. Its flash persists between commands in
$XDG_CACHE_HOME/otarig/virtual/<rig>/<board>/ (default ~/.cache/…), so a later command boots
what "rig flash" wrote.`;

export const POWER_HELP = `Usage: rig power <rig.yaml> <board> on|off|cycle [--off DUR] [--watch DUR] [options]

Switches the board's power (its relay channel, or the virtual board's process), then closes
the board and exits. After on and cycle it prints the board's console output live: until the
board has been quiet for 1s after it started printing (at most 15s), or for exactly --watch.

  --off DUR           cycle: how long the power stays off (default 1s)
  --watch DUR         after on/cycle, show the console for DUR (0: not at all)

On a real bench the power state stays as switched (the relay holds it): nothing is switched
off when the command exits.

${VIRTUAL_NOTE} So on the virtual rig "rig power … on" shows the boot, then the
board goes down with the command at exit, and "off" has nothing to switch off.

${COMMON}`;

export const RESET_HELP = `Usage: rig reset <rig.yaml> <board> [--watch DUR] [--[no-]power-on] [options]

Resets the board (relay pulse, DTR/RTS sequence, reset command, or the virtual board's
process), prints its console output until it has been quiet for 1s after the reset (at most
15s; or for exactly --watch DUR), then closes the board and exits.

  --watch DUR         after the reset, show the console for DUR (0: not at all)
  --power-on          power the board on (and wait for it to boot) before the reset; default
                      on for virtual boards, off for real ones (--no-power-on to skip)

${VIRTUAL_NOTE} So on the virtual rig "rig reset" powers the board on, lets it
boot, resets it (the log shows both boots), and the board goes down with the command at exit.

${COMMON}`;

export const FLASH_HELP = `Usage: rig flash <rig.yaml> <board> <image> [options]

Runs the rig's flash.command for the board with the image (a path from the current
directory), showing the flasher's progress (flash.progress) on the terminal, then closes the
board and exits. The flasher's output goes to run.log; with flash.share_port the console lets
go of the port while the flasher runs. A flasher that fails or times out exits 3 with its last
output.

${VIRTUAL_NOTE}

${COMMON}`;

export const CONSOLE_HELP = `Usage: rig console <rig.yaml> <board> [--[no-]power-on] [options]

An interactive serial console on the board, logged like a run (<board>.log). Keys go to the
board as typed (the terminal is in raw mode: Ctrl-C goes to the board too), bytes from the
board are written to the terminal as they arrive. Ctrl-] exits.

When stdin is not a terminal (piped), each input line is sent to the board with the profile's
line ending, one at a time (the next once the profile's prompt is back, at most 10s, or after
0.5s of quiet when the profile has no prompt); the command exits when stdin ends and the board
has then been quiet for 0.5s (at most 10s). After powering on, piped input waits for the boot
(the prompt, or 1s of quiet after the first output; at most 15s).

  --power-on          power the board on first; default on for virtual boards (so there is
                      something to talk to), off for real ones (--no-power-on to skip)

${VIRTUAL_NOTE}

${COMMON}`;

export const ATTACH_HELP = `Usage: rig attach <run dir> <board> [--power on|off|cycle | --reset]

Works on a board of a run held open after a failure (rig run --pause-on-failure). The held run
owns the board's port, power and reset; this talks to it over the unix socket in the run
directory (attach.sock, readable by its user only), and everything the board prints still goes
into the run's <board>.log.

Without options: an interactive console on the board. On a terminal, keys go to the board as
typed and Ctrl-] leaves (the run goes on holding); with stdin piped, each line is sent in turn
(after the board's prompt is back) and the command ends when stdin ends.

  --power ACTION      switch the board's power (cycle: off for 1s), then show the boot
  --reset             reset the board, then show the boot
  -h, --help          this text

Exit codes: 0 done, 2 not a held run, no such board, bad arguments, 3 the action failed
`;

export const RESUME_HELP = `Usage: rig resume <run dir>

Ends the hold of a run held open after a failure (rig run --pause-on-failure), as Enter or
Ctrl-C in its terminal does: the run goes on to teardown and writes its reports.

Exit codes: 0 resumed, 2 not a held run
`;
