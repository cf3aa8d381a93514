// The page's stylesheet and client scripts are plain files next to this module, read once and
// inlined into every page: the page needs no network and opens from file://.
import { readFileSync } from "node:fs";

const cache = new Map<string, string>();

export function asset(name: "style.css" | "run-page.js" | "suite-page.js" | "history.css" | "history-page.js" | "brick-map.js"): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`./assets/${name}`, import.meta.url), "utf8");
    cache.set(name, text);
  }
  // A script's text must not close its own element.
  return text.replace(/<\/(script|style)/gi, "<\\/$1");
}
