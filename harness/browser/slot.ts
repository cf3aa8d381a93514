// Where a run keeps its browser: started by the first browser step, closed at teardown.
import type { Locator } from "playwright-core";
import type { BrowserSession } from "./session.ts";

export interface BrowserSlot {
  headed: boolean;
  /** the launch in progress or done (parallel branches share one browser) */
  session?: Promise<BrowserSession>;
  /** fields a secret was typed into: drawn as dots, masked in screenshots */
  secretFields?: Locator[];
}
