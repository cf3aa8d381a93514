import { describe, expect, it } from "vitest";
import { authorizationHeader, parseAuthorization, signature, signatureMatches, signingKey, signRequest } from "../../harness/ota/signer.ts";

const SECRET = "EPqeEGVcYf6Zpo+6yCqHeoYJSrnDykc9gPShOA==";
const EPOCH = 1708954065872;

describe("ALLXON-SIG1 signer", () => {
  it("reproduces the documented signing key (seeds 003/004)", () => {
    expect(signingKey(SECRET, EPOCH)).toBe("9e73a5982eb5a38cb36830773eb92d0d12cbece741a9c95cdab678f1971eb58d");
  });

  it("signs with the signing key's hex string as the HMAC key, as the seed 000 scripts do", () => {
    // The published example signature (77d0…) does not reproduce from the formula; see seeds/README.md.
    expect(signature(SECRET, "POST", "/ota/deployment", EPOCH)).toBe("37dd7f3de1dcfeae5a1bb7a6441c631649454bb3c015c6456cca36045c4112d9");
  });

  it("derives the key from the epoch's own hour", () => {
    const hourStart = Math.floor(EPOCH / 3_600_000) * 3_600_000;
    expect(signingKey(SECRET, hourStart)).toBe(signingKey(SECRET, hourStart + 3_599_999));
    expect(signingKey(SECRET, hourStart - 1)).not.toBe(signingKey(SECRET, hourStart));
  });

  it("builds and parses the Authorization header", () => {
    const h = signRequest({ keyId: "APIAEXAMPLEKEYID", secret: SECRET, method: "POST", pathWithQuery: "/ota/deployment", epochMs: EPOCH });
    expect(h["X-Allxon-Epoch"]).toBe(String(EPOCH));
    expect(h.Authorization).toBe(
      'ALLXON-SIG1 Credential="APIAEXAMPLEKEYID",Signature="37dd7f3de1dcfeae5a1bb7a6441c631649454bb3c015c6456cca36045c4112d9"',
    );
    expect(parseAuthorization(h.Authorization)).toEqual({
      keyId: "APIAEXAMPLEKEYID",
      signature: "37dd7f3de1dcfeae5a1bb7a6441c631649454bb3c015c6456cca36045c4112d9",
    });
    expect(parseAuthorization("Bearer x")).toBeUndefined();
    expect(parseAuthorization(authorizationHeader("k", "abc"))).toBeUndefined();
  });

  it("compares signatures exactly", () => {
    const s = signature(SECRET, "GET", "/ota/deployment/x/all?a=1", EPOCH);
    expect(signatureMatches(s, s)).toBe(true);
    expect(signatureMatches(s, signature(SECRET, "GET", "/ota/deployment/x/all?a=2", EPOCH))).toBe(false);
    expect(signatureMatches(s, s.slice(0, 62))).toBe(false);
  });
});
