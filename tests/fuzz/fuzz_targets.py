"""Coverage-guided fuzz targets (atheris, libFuzzer) for op_continue's parsers of what others send.

    python tests/fuzz/fuzz_targets.py message  -runs=100000
    python tests/fuzz/fuzz_targets.py sf       -max_total_time=60
    python tests/fuzz/fuzz_targets.py grant    -runs=100000 [CORPUS_DIR ...]
    python tests/fuzz/fuzz_targets.py finish   -runs=100000

Targets: ``message`` (parse_message), ``sf`` (parse_item / parse_list / parse_dictionary, and
re-serialization of whatever parses), ``grant`` (Grant.from_json(parse_json(data))), ``finish``
(the redirect back from the AS: parse_finish_redirect, then verify_interaction_hash). Each lets
only the module's typed errors escape; anything else is a crash libFuzzer reports (exit != 0).
An empty (or no) corpus directory is filled with built-in seeds first (no directory: a new
temporary one).
Crash files go to the current directory (libFuzzer's -artifact_prefix changes that).
"""
import json
import pathlib
import sys
import tempfile

import atheris

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))  # the working tree's module

with atheris.instrument_imports():
    import op_continue as oc


def fuzz_message(data: bytes) -> None:
    try:
        message = oc.parse_message(data)
    except oc.UsageError:
        return
    assert isinstance(message, oc.Message)
    assert all(name == name.lower() for name, _ in message.fields)


_SERIALIZE = {oc.parse_item: oc.serialize_item, oc.parse_list: oc.serialize_list,
              oc.parse_dictionary: oc.serialize_dictionary}


def fuzz_sf(data: bytes) -> None:
    text = data.decode("latin-1")
    for parse, serialize in _SERIALIZE.items():
        try:
            value = parse(text)
        except oc.UsageError:
            continue
        # what parses must serialize, and the serialization must parse to the same text again
        again = serialize(value)
        assert serialize(parse(again)) == again, (text, again)


def fuzz_grant(data: bytes) -> None:
    try:
        grant = oc.Grant.from_json(oc.parse_json(data))
    except oc.ResponseError:
        return
    assert isinstance(grant, oc.Grant)
    grant.to_json()


def fuzz_finish(data: bytes) -> None:
    try:
        finish = oc.parse_finish_redirect(data.decode("utf-8", "surrogateescape"))
        oc.verify_interaction_hash(finish.hash, "c-nonce", "s-nonce", finish.interact_ref,
                                   "https://as.example/")
    except (oc.UsageError, oc.GrantError, oc.VerificationError):
        return
    raise AssertionError("a fuzzed hash matched")  # it cannot, but for the seed below


TARGETS = {"message": fuzz_message, "sf": fuzz_sf, "grant": fuzz_grant, "finish": fuzz_finish}

_GRANT = {
    "access_token": {"value": "T", "manage": "https://as.example/token/1", "expires_in": 600,
                     "access": [{"type": "outgoing-payment", "actions": ["create", "read"],
                                 "identifier": "https://w.example/alice",
                                 "limits": {"debitAmount": {"value": "500", "assetCode": "USD",
                                                            "assetScale": 2}}}]},
    "continue": {"access_token": {"value": "C"}, "uri": "https://as.example/continue/1",
                 "wait": 5},
    "interact": {"redirect": "https://as.example/interact/1", "finish": "n"},
    "subject": {"sub_ids": [{"id": "https://w.example/alice", "format": "uri"}]},
}
SEEDS = {
    "message": [
        b"POST /foo?param=Value&Pet=dog HTTP/1.1\r\nHost: example.com\r\nDate: Tue, 20 Apr 2021"
        b" 02:07:55 GMT\r\nContent-Type: application/json\r\nContent-Digest: sha-512=:AA==:\r\n"
        b"Content-Length: 18\r\n\r\n{\"hello\": \"world\"}",
        b"HTTP/1.1 200 OK\nContent-Type: application/json\nX-Folded: a\n  b\n\n{}",
        b"GET https://a.example/x HTTP/1.1\nhost: a\n\n",
        b"OPTIONS * HTTP/1.1\nHost: a:443\n\n",
        b"CONNECT a.example:443 HTTP/1.1\n\n",
    ],
    "sf": [
        b'sig1=("@method" "@target-uri" "content-digest");created=1618884473;keyid="k";alg='
        b'"ed25519"',
        b"sig1=:dGVzdA==:, sig2=:YQ:",
        b'a=?1, b=(1 2.5 "s" tok :AQ==:);p=-3, c;x=1.125',
        b"sha-512=:z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGl"
        b"ODJ6+SfaPg==:",
        b"1, 42.0, ?0, *tok/x:y",
    ],
    "grant": [
        json.dumps(_GRANT).encode(),
        json.dumps({"continue": _GRANT["continue"]}).encode(),
        json.dumps({"subject": _GRANT["subject"]}).encode(),
        b'{"access_token":{"value":"x","manage":"http://127.0.0.1/t","access":[]}}',
        b'{"error":{"code":"too_fast"}}',
    ],
    "finish": [
        b"https://client.example/finish?hash=bdplhM1pyGlj%2Bzd2pLxat%2BdXYWgx09RUeW%2BvsAldv2I%3D"
        b"&interact_ref=22811cb9",
        b"https://client.example/finish?hash=x4Jq-abc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        b"&interact_ref=r",
        b"https://client.example/finish?result=grant_rejected",
        b"/finish?interact_ref=a&hash=A&hash=B",
    ],
}


def main(argv=None) -> None:
    argv = list(sys.argv if argv is None else argv)
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: {argv[0]} {{{'|'.join(TARGETS)}}} [libFuzzer options] [CORPUS_DIR]")
    name = argv.pop(1)
    corpora = [a for a in argv[1:] if not a.startswith("-")]
    if not corpora:  # no corpus given: a temporary one
        corpora = [tempfile.mkdtemp(prefix=f"op_continue-fuzz-{name}-")]
        argv.append(corpora[0])
    first = pathlib.Path(corpora[0])
    if first.is_dir() and not any(first.iterdir()):  # an empty corpus starts from the seeds
        for i, seed in enumerate(SEEDS[name]):
            (first / f"seed-{i}").write_bytes(seed)
    atheris.Setup(argv, TARGETS[name])
    atheris.Fuzz()


if __name__ == "__main__":
    main()
