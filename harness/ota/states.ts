// The words of the OTA protocol's state machine (README "Device and deployment states").
// A device reports where it is in an update; the server turns that into the deployment's status
// for the device. `success` means confirmed: a trial boot is still `trial` (Mender's commit,
// hawkBit's closed action). The seeds define the deployment words (processing|success|failed);
// the device words are DESIGN §4's (failure, not failed).

export const DEVICE_STATES = ["downloading", "installing", "rebooting", "trial", "success", "failure"] as const;
export type DeviceState = (typeof DEVICE_STATES)[number];

export const DEPLOYMENT_STATUSES = ["processing", "success", "failed"] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** The other vocabulary's word for the same end: accepted in a scenario, with a did-you-mean. */
export const DEVICE_STATE_ALIASES = { failed: "failure" } as const satisfies Record<string, DeviceState>;
export const DEPLOYMENT_STATUS_ALIASES = { failure: "failed" } as const satisfies Record<string, DeploymentStatus>;
