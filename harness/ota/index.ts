// The OTA clients and the ALLXON-SIG1 signer: what the runner's vendor.*, backend.* and
// assert.* steps use. Nothing here knows about scenarios or the runner.
export * from "./signer.ts";
export * from "./http.ts";
export * from "./digest.ts";
export * from "./backend-client.ts";
export * from "./vendor-client.ts";
export * from "./provision-client.ts";
