// The step registry: every name in scenario/steps.ts maps to its implementation here.
import type { StepName } from "../../scenario/steps.ts";
import type { StepImpl } from "../context.ts";
import * as assertSteps from "./assert-steps.ts";
import * as backend from "./backend-steps.ts";
import * as boardSteps from "./board-steps.ts";
import * as browser from "./browser-steps.ts";
import * as consoleSteps from "./console-steps.ts";
import * as control from "./control-steps.ts";
import * as device from "./device-steps.ts";
import * as fault from "./fault-steps.ts";
import { assertFleet } from "./assert-fleet.ts";
import { deploy as fleetDeploy } from "./fleet-deploy.ts";
import { start as fleetStart } from "./fleet-start.ts";
import { stop as fleetStop } from "./fleet-stop.ts";
import { wait as fleetWait } from "./fleet-wait.ts";
import * as server from "./server-steps.ts";
import * as serverAsserts from "./server-asserts.ts";
import * as vendor from "./vendor-steps.ts";

export const STEP_IMPLS: Record<StepName, StepImpl> = {
  flash: boardSteps.flash,
  power: boardSteps.power,
  reset: boardSteps.reset,
  "console.send": consoleSteps.consoleSend,
  expect: consoleSteps.expect,
  settle: consoleSteps.settle,
  wait: control.wait,
  set: control.set,
  "device.configure": device.configure,
  "device.activate": device.activate,
  "device.check": device.check,
  "device.download": device.download,
  "device.install": device.install,
  "device.confirm": device.confirm,
  "device.reboot": device.reboot,
  "backend.create": backend.create,
  "backend.allow": backend.allow,
  "backend.deny": backend.deny,
  "backend.upload": backend.upload,
  "fault.power_cut": fault.powerCut,
  "fault.network": fault.network,
  "server.restart": server.restart,
  "server.stop": server.stop,
  "server.start": server.start,
  "vendor.register": vendor.register,
  "vendor.enable": vendor.enable,
  "vendor.disable": vendor.disable,
  "vendor.upload": vendor.upload,
  "vendor.deploy": vendor.deploy,
  "browser.open": browser.open,
  "browser.click": browser.click,
  "browser.fill": browser.fill,
  "browser.select": browser.select,
  "browser.upload": browser.upload,
  "browser.expect": browser.expect,
  "browser.screenshot": browser.shot,
  "portal.login": browser.portalLogin,
  "fleet.start": fleetStart,
  "fleet.deploy": fleetDeploy,
  "fleet.wait": fleetWait,
  "fleet.stop": fleetStop,
  "assert.fleet": assertFleet,
  "assert.hash": assertSteps.hash,
  "assert.deployment": serverAsserts.deployment,
  "assert.device": serverAsserts.device,
};
