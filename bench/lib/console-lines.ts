// Realistic console output for the console benchmark, generated deterministically from a seed so
// the writer (a child process) and the checker produce the same lines: ESP-IDF style coloured
// log lines ending "\r\n", Zephyr style lines ending "\n", download progress redrawn with a lone
// "\r", the odd long hex dump, and a final marker line. Every line has content (a terminator
// never ends an empty line), so each generated line is exactly one line of the board log.

import { seededRandom } from "../../harness/core/seeded-random.ts";

export interface GeneratedLine {
  /** the line's bytes without its terminator (ASCII, ANSI escapes included) */
  content: string;
  terminator: "\r\n" | "\n" | "\r";
}

export const END_PREFIX = "BENCH-END";

const TAGS = ["boot", "cpu_start", "heap_init", "spi_flash", "wifi", "esp_netif", "ota", "app_main", "nvs", "http_client"];
const ZEPHYR_MODULES = ["net_core", "mcumgr", "flash_map", "img_mgmt", "os", "dfu_target", "fota_download"];
const MESSAGES = [
  "Loaded app from partition at offset 0x10000",
  "Pro cpu up.",
  "Starting scheduler on PRO CPU.",
  "Initializing. RAM available for dynamic allocation:",
  "Detected size(4096k) larger than the size in the binary image header(2048k). Using the size in the binary image header.",
  "connected with lab-ap, aid = 3, channel 6, BW20, bssid = 3c:84:6a:11:22:33",
  "sta ip: 192.168.7.42, mask: 255.255.255.0, gw: 192.168.7.1",
  "Writing to partition subtype 17 at offset 0x110000",
  "image header verified, sha256 matches",
  "esp_https_ota: Starting OTA...",
];

/** Lines adding up to at least `bytes` (terminators counted), then the end marker line. */
export function* consoleLines(bytes: number, seed = 1): Generator<GeneratedLine> {
  const rand = seededRandom(seed); // the same seed gives the same lines in both processes
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  let sent = 0;
  let n = 0;
  let ms = 0;
  let progress = -1;
  while (sent < bytes) {
    let line: GeneratedLine;
    ms += 1 + Math.floor(rand() * 40);
    if (progress >= 0) {
      // a progress bar redrawn in place: "\r"-terminated until 100 %
      progress = Math.min(100, progress + 1 + Math.floor(rand() * 6));
      const bar = "#".repeat(Math.floor(progress / 4)).padEnd(25, ".");
      line = { content: `download progress ${progress}% [${bar}] (${Math.floor((progress * 262272) / 100)}/262272)`, terminator: progress < 100 ? "\r" : "\r\n" };
      if (progress >= 100) progress = -1;
    } else {
      const r = rand();
      if (r < 0.45) {
        const level = rand() < 0.85 ? ["I", "0;32"] : rand() < 0.7 ? ["W", "0;33"] : ["E", "0;31"];
        line = { content: `\x1b[${level[1]}m${level[0]} (${ms}) ${pick(TAGS)}: ${pick(MESSAGES)}\x1b[0m`, terminator: "\r\n" };
      } else if (r < 0.85) {
        const s = ms / 1000;
        const stamp = `[${String(Math.floor(s / 3600)).padStart(2, "0")}:${String(Math.floor(s / 60) % 60).padStart(2, "0")}:${(s % 60).toFixed(3).padStart(6, "0")},${String(Math.floor(rand() * 1000)).padStart(3, "0")}]`;
        line = { content: `${stamp} <inf> ${pick(ZEPHYR_MODULES)}: ${pick(MESSAGES)} (${n})`, terminator: "\n" };
      } else if (r < 0.95) {
        const addr = (0x3ffb0000 + n * 16).toString(16);
        const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 256).toString(16).padStart(2, "0")).join(" ");
        line = { content: `0x${addr}: ${hex}`, terminator: "\n" };
      } else {
        progress = 0;
        line = { content: `\x1b[1mota> \x1b[0mdownload`, terminator: "\r\n" };
      }
    }
    sent += line.content.length + line.terminator.length;
    n++;
    yield line;
  }
  yield { content: `${END_PREFIX} lines=${n + 1}`, terminator: "\r\n" };
}

/** The generated stream in chunks of about `chunkBytes`, whole lines only. */
export function* consoleChunks(bytes: number, seed: number, chunkBytes = 64 * 1024): Generator<Buffer> {
  let parts: string[] = [];
  let size = 0;
  for (const l of consoleLines(bytes, seed)) {
    parts.push(l.content, l.terminator);
    size += l.content.length + l.terminator.length;
    if (size >= chunkBytes) {
      yield Buffer.from(parts.join(""), "latin1");
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.from(parts.join(""), "latin1");
}
