// The board's UART: assembles command lines from whatever bytes arrive, echoes them when the
// shell takes them up, and prints lines and the prompt with the configured line ending.
import { StringDecoder } from "node:string_decoder";
import type { BoardConfig } from "./config.ts";

/** The part of a serial port the console uses (a SerialPort, or any stream in tests). */
export interface Uart {
  write(data: string): unknown;
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
}

export class Console {
  private pending = "";
  private readonly decoder = new StringDecoder("utf8");
  private lastWasCr = false;
  /** no application running (no bootable image): input is neither echoed nor handled */
  deaf = false;

  constructor(
    private readonly uart: Uart,
    private readonly config: BoardConfig,
    onLine: (line: string) => void,
  ) {
    uart.on("data", (chunk) => {
      if (this.deaf) return;
      for (const ch of this.decoder.write(chunk)) {
        // A line ends at \n, \r or \r\n; the \n of \r\n is not a second (empty) line.
        if (ch === "\n" && this.lastWasCr) {
          this.lastWasCr = false;
          continue;
        }
        this.lastWasCr = ch === "\r";
        if (ch === "\r" || ch === "\n") {
          const line = this.pending;
          this.pending = "";
          onLine(line);
        } else {
          this.pending += ch;
        }
      }
    });
  }

  /**
   * Echoes a command line when the shell takes it up, not when its bytes arrive: like
   * ESP-IDF's linenoise, which reads (and echoes) type-ahead only once the previous command
   * has finished and the prompt is back.
   */
  echo(line: string): void {
    this.uart.write((this.config.echo ? line : "") + this.config.lineEnding);
  }

  print(line: string): void {
    this.uart.write(line + this.config.lineEnding);
  }

  prompt(): void {
    this.uart.write(this.config.prompt);
  }
}
