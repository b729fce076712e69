"""Write vectors/op-sdk-requests-generated.json: requests signed by the OFFICIAL Open Payments
signer (@interledger/http-signature-utils createHeaders, via peer.mjs), never by op_continue.

Run from the repository root after `npm ci --prefix tests/interop`:
    python tests/interop/make_sdk_vectors.py
The key is RFC 9421 Appendix B.1.4's published test-key-ed25519 (vectors/rfc9421-B.1.json).
"""
import datetime
import json
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
PEER = ROOT / "tests" / "interop" / "peer.mjs"
KEY_ID = "keyid-97a3a431-8ee1-48fc-ac85-70e2f5eba8e5"
CREATED = 1618884473
AS = "https://auth.interledger-test.dev"
CONTINUE_URI = AS + "/continue/4CF492MLVMSW9MKMXKHQ"  # the auth-server OpenAPI examples' values
CONTINUE_TOKEN = "33OMUKMKSKU80UPRY5NM"
MANAGE_URL = AS + "/token/dd17a202-9982-4ed9-ae31-564947fb6379"
ACCESS_TOKEN = "OS9M2PMHKUR64TB8N6BW7OZB8CDFONP219RP1LT0"
GRANT_BODY = {
    "access_token": {"access": [{
        "type": "outgoing-payment", "actions": ["create", "read"],
        "identifier": "https://ilp.interledger-test.dev/alice",
        "limits": {"debitAmount": {"value": "500", "assetCode": "USD", "assetScale": 2}}}]},
    "client": "https://ilp.interledger-test.dev/alice",
    "interact": {"start": ["redirect"],
                 "finish": {"method": "redirect", "uri": "https://client.example/finish",
                            "nonce": "VJLO6A4CATR0KRO"}},
}
CASES = [
    ("continue", "POST", CONTINUE_URI, CONTINUE_TOKEN,
     {"interact_ref": "ad82597c-bbfa-4eb0-b72e-328e005b8689"}),
    ("poll", "POST", CONTINUE_URI, CONTINUE_TOKEN, None),
    ("cancel", "DELETE", CONTINUE_URI, CONTINUE_TOKEN, None),
    ("rotate", "POST", MANAGE_URL, ACCESS_TOKEN, None),
    ("revoke", "DELETE", MANAGE_URL, ACCESS_TOKEN, None),
    ("grant-request", "POST", AS + "/", None, GRANT_BODY),
    ("continue-port-query", "POST", "https://auth.example:8443/continue/x?tenant=1",
     CONTINUE_TOKEN, {"interact_ref": "4IFWWIKYB2PQ6U56NL1"}),
]


def main():
    keys = json.loads((ROOT / "vectors" / "rfc9421-B.1.json").read_text())
    key = next(t for t in keys["tests"] if t["id"] == "rfc9421-B.1.4")
    pem = "\n".join(key["input"]["private_pem"]) + "\n"
    items, tests = [], []
    for name, method, url, token, body in CASES:
        headers = {"accept": "application/json", "content-type": "application/json"}
        if token:
            headers["authorization"] = "GNAP " + token
        request = {"method": method, "url": url, "headers": headers}
        if body is not None:
            # what the official client's signing hook passes: JSON.stringify of the parsed body
            request["body"] = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        items.append({"op": "createHeaders", "privateKeyPem": pem, "keyId": KEY_ID,
                      "created": CREATED, "request": request})
        tests.append({"id": f"op-sdk-{name}", "type": "sdk_request",
                      "comment": f"{method} signed by createHeaders (the official SDK's signer)",
                      "flags": ["Generated"],
                      "input": {"method": method, "url": url, "access_token": token,
                                "body": request.get("body"), "key": "rfc9421-B.1.4",
                                "keyid": KEY_ID, "created": CREATED},
                      "result": "valid"})
    out = subprocess.run(["node", str(PEER)], input=json.dumps({"op": "batch", "items": items}),
                         capture_output=True, text=True, check=True)
    results = json.loads(out.stdout)["results"]
    for test, result in zip(tests, results):
        assert "headers" in result, result
        test["expected"] = {"headers": result["headers"]}
    lock = json.loads((ROOT / "tests" / "interop" / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/@interledger/http-signature-utils"]["version"]
    doc = {
        "schema": "op_continue-vectors/1",
        "source": {
            "document": "@interledger/http-signature-utils createHeaders",
            "section": "generated",
            "title": "Open Payments requests as the official SDK signs them",
            "tool": f"@interledger/http-signature-utils {version} (npm), Node "
                    + subprocess.run(["node", "--version"], capture_output=True,
                                     text=True).stdout.strip(),
            "script": "tests/interop/make_sdk_vectors.py + tests/interop/peer.mjs",
            "generated": datetime.date.today().isoformat(),
            "key": "RFC 9421 Appendix B.1.4 test-key-ed25519",
            "license": "generated data; the key is IETF Trust Legal Provisions 4.e (Revised BSD)",
        },
        "notes": {"Generated": "Output of the official signer with `created` fixed; op_continue "
                               "must produce the same header values byte for byte. The interop "
                               "tier regenerates them at test time and compares again."},
        "numberOfTests": len(tests),
        "tests": tests,
    }
    path = ROOT / "vectors" / "op-sdk-requests-generated.json"
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path.relative_to(ROOT)}: {len(tests)} requests")


if __name__ == "__main__":
    main()
