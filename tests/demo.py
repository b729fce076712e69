"""The whole Open Payments interactive grant flow, offline, against a local AS on loopback.

    python tests/demo.py

1. start the local authorization server (tests/local_as.py) and a client wallet whose JWKS
   holds a freshly generated Ed25519 key;
2. request an outgoing-payment grant with an interact.finish nonce (RFC 9635 §2);
3. approve it as the user would: open the AS's interaction page and press "Accept";
4. check the finish redirect's hash (RFC 9635 §4.2.3);
5. continue the grant with the interact_ref (RFC 9635 §5.1) through the op-continue command,
   reading the same environment names as the Open Payments docs, and print the token lines.
No account and no network beyond 127.0.0.1 are needed.
"""
import os
import pathlib
import re
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # op_continue.py, even when not installed
sys.path.insert(0, str(HERE))

import requests  # noqa: E402
from local_as import LocalAS  # noqa: E402

import op_continue as oc  # noqa: E402

KEY_ID = "demo-key-1"


def step(text):
    print(f"\n== {text}")


def main():
    with tempfile.TemporaryDirectory() as tmp, LocalAS(wait=1).start() as server:
        step("client key and wallet address")
        key_path = os.path.join(tmp, "private.key")
        key = oc.PrivateKey.generate()
        key.write_pem(key_path)
        wallet = server.add_wallet("alice", oc.jwks({KEY_ID: key.public_key}))
        print(f"WALLET_ADDRESS = {wallet}")
        print(f"KEY_ID = {KEY_ID}  (public JWK served at {wallet}/jwks.json)")

        step("grant request (RFC 9635 §2)")
        client = oc.Client(key, KEY_ID, allow_http=True)
        nonce = oc.new_nonce()
        body = oc.grant_request_body(
            client=wallet, finish_uri="https://client.example/finish", nonce=nonce,
            access=[{"type": "outgoing-payment", "actions": ["create", "read"],
                     "identifier": wallet,
                     "limits": {"debitAmount": {"value": "1000", "assetCode": "USD",
                                                "assetScale": 2}}}])
        grant = client.request_grant(server.grant_endpoint, body)
        print(f"INTERACT_REDIRECT = {grant.interact.redirect}")
        print(f"CONTINUE_URI = {grant.continue_.uri}  (wait {grant.continue_.wait} s)")

        step("the user approves at the AS")
        page = requests.get(grant.interact.redirect, timeout=5).text
        accept = re.search(r'id="accept" href="([^"]+)"', page).group(1)
        answer = requests.get(server.url + accept, allow_redirects=False, timeout=5)
        redirect = answer.headers["Location"]
        print(f"AS redirects the browser to: {redirect}")

        step("finish redirect: check the interaction hash (RFC 9635 §4.2.3)")
        finish = oc.parse_finish_redirect(redirect)
        oc.verify_interaction_hash(finish.hash, nonce, grant.interact.finish,
                                   finish.interact_ref, server.grant_endpoint)
        print(f"hash {finish.hash} is valid for our nonce, the AS nonce and the interact_ref")

        step("grant continuation (RFC 9635 §5.1): the signature base we sign")
        time.sleep(grant.continue_.wait or 0)  # the AS answers too_fast inside the wait
        created = int(time.time())
        signed = client.sign("POST", grant.continue_.uri,
                             access_token=grant.continue_.access_token_value,
                             body=oc.continue_body(finish.interact_ref), created=created)
        print(signed.signature_base)

        step("op-continue continue")
        os.environ.update({"CONTINUE_URI": grant.continue_.uri,
                           "CONTINUE_ACCESS_TOKEN": grant.continue_.access_token_value,
                           "INTERACT_REF": finish.interact_ref,
                           "PRIVATE_KEY_PATH": key_path, "KEY_ID": KEY_ID,
                           "WALLET_ADDRESS": wallet})
        code = oc.main(["continue", "--allow-http", "--created", str(created)])
        sent = server.requests_log[-1]
        assert sent["headers"]["signature-input"] == signed.header("Signature-Input")
        return code


if __name__ == "__main__":
    sys.exit(main())
