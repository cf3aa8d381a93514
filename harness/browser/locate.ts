// How browser steps name an element: by ARIA role (+ accessible name), label, text or CSS
// selector, optionally inside another element (`in`). Also what a page showed, for messages.
import type { Locator, Page } from "playwright-core";

export interface Target {
  role?: string;
  name?: string;
  label?: string;
  text?: string;
  selector?: string;
  /** match name/label/text exactly (default: case-insensitive substring) */
  exact?: boolean;
  in?: Target;
}

export function locate(page: Page, t: Target): Locator {
  const root: Page | Locator = t.in ? locate(page, t.in) : page;
  const exact = t.exact ?? false;
  if (t.role) return root.getByRole(t.role as Parameters<Page["getByRole"]>[0], t.name !== undefined ? { name: t.name, exact } : {});
  if (t.label !== undefined) return root.getByLabel(t.label, { exact });
  if (t.text !== undefined) return root.getByText(t.text, { exact });
  if (t.selector !== undefined) return root.locator(t.selector);
  throw new Error("a browser target needs role, label, text or selector");
}

/** `role=button name="Sign in"` in `role=row name="VB-1"`: how messages name a locator. */
export function describeTarget(t: Target): string {
  const own = t.role
    ? `role=${t.role}${t.name !== undefined ? ` name=${JSON.stringify(t.name)}` : ""}`
    : t.label !== undefined
      ? `label=${JSON.stringify(t.label)}`
      : t.text !== undefined
        ? `text=${JSON.stringify(t.text)}`
        : `selector=${JSON.stringify(t.selector ?? "")}`;
  return t.in ? `${own} in ${describeTarget(t.in)}` : own;
}

const SHOWN_CHARS = 600;

/** The page's URL, title, alerts and the start of its visible text, for a failure message. */
export async function pageSummary(page: Page): Promise<string> {
  try {
    const title = await page.title();
    const alerts = await page
      .getByRole("alert")
      .allInnerTexts()
      .catch(() => []);
    const text = (await page.locator("body").innerText({ timeout: 1000 }).catch(() => "")).replace(/\s+/g, " ").trim();
    const shown = text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
    return [
      `page ${page.url()} (title ${JSON.stringify(title)})`,
      ...(alerts.length ? [`alert: ${alerts.join(" | ")}`] : []),
      `it showed: ${shown || "(no text)"}`,
    ].join("\n");
  } catch (err) {
    return `the page could not be read: ${(err as Error).message.split("\n")[0]}`;
  }
}
