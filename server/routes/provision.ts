import type { App } from "../context.ts";
import type { Route } from "../http/router.ts";
export function provisionRoutes(_app: App): Route[] {
  return [];
}
