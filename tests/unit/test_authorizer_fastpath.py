"""The authorizer's single-parse verification path against pyjwt's own ``jwt.decode``.

``TokenVerifier`` decodes a token once (base64url, JSON without duplicate members) and runs pyjwt's
RS256 verification, header checks and claim checks on that parse instead of calling ``jwt.decode``
(which would parse and base64-check it again). These tests hold it to ``jwt.decode``: over a corpus
of re-encoded, padded, non-canonical and otherwise odd tokens, each signed over exactly its own
segments so only the encoding or the claims decide, it accepts exactly what ``jwt.decode`` accepts
(it refuses a little more: duplicate members, non-UTF-8 JSON, our own claim rules). It also checks
that the fast path stays fast: no second parse, one Principal per caller, no INFO line per success.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from modelauth import authorizer as authorizer_module
from modelauth.authorizer import DEFAULT_LEEWAY, Caller, CallerKind, Issuer, LambdaAuthorizer, TokenVerifier
from modelauth.errors import Unauthenticated
from tests.authz import authorizer_event, b64url, rsa_key, unverified_claims
from tests.fixtures.schema import SCHEMA
from tests.unit.test_authorizer_tokens import ALICE_SUB, CLIENT, POOL, POOL_ID, access_token

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def verifier() -> TokenVerifier:
    return TokenVerifier([Issuer.cognito(POOL_ID, [CLIENT], jwks=POOL.jwks())])


def ours_accept(token: str) -> bool:
    try:
        verifier().verify(token)
    except Unauthenticated:
        return False
    return True


def pyjwt_accepts(token: str) -> bool:
    """``jwt.decode`` as the verifier configures it for this pool (before its own claim rules)."""
    try:
        jwt.decode(
            token,
            rsa_key("pool").public_key(),
            algorithms=["RS256"],
            issuer=POOL.issuer,
            leeway=DEFAULT_LEEWAY,
            options={"require": ["exp", "iat", "iss", "sub", "token_use"], "verify_aud": False},
        )
    except jwt.PyJWTError:
        return False
    return True


def signed(header_segment: str, payload_segment: str, key: rsa.RSAPrivateKey | None = None) -> str:
    """A token whose signature is valid over exactly these two segments, however they're spelled."""
    signing_input = f"{header_segment}.{payload_segment}".encode()
    signature = RSAAlgorithm(RSAAlgorithm.SHA256).sign(signing_input, key or rsa_key("pool"))
    return f"{header_segment}.{payload_segment}.{b64url(signature)}"


def non_canonical(segment: str) -> str | None:
    """The same bytes with stray bits set in the last character (None when it has no spare bits)."""
    spare = {2: 0b1111, 3: 0b11}.get(len(segment) % 4)
    if spare is None:
        return None
    value = ALPHABET.index(segment[-1])
    return segment[:-1] + ALPHABET[value | spare] if value & spare != spare else None


def spellings(segment: str) -> dict[str, str | None]:
    """One segment spelled in ways pyjwt accepts or refuses."""
    return {
        "as is": segment,
        "one =": segment + "=",
        "two =": segment + "==",
        "three =": segment + "===",
        "non-canonical last character": non_canonical(segment),
        "standard alphabet +": segment[:-1] + "+",
        "standard alphabet /": segment[:-1] + "/",
        "= inside": segment[:4] + "=" + segment[5:],
        "a character outside base64": segment[:-1] + "*",
        "one character short": segment[:-1],
        "one character more": segment + "A",
        "two characters more": segment + "AA",
        "empty": "",
    }


def encoding_corpus() -> dict[str, str]:
    header_segment, payload_segment, signature_segment = access_token().split(".")
    corpus: dict[str, str] = {}
    for name, spelled in spellings(header_segment).items():
        if spelled is not None:
            corpus[f"header {name}"] = signed(spelled, payload_segment)
    for name, spelled in spellings(payload_segment).items():
        if spelled is not None:
            corpus[f"payload {name}"] = signed(header_segment, spelled)
    for name, spelled in spellings(signature_segment).items():
        if spelled is not None:
            corpus[f"signature {name}"] = f"{header_segment}.{payload_segment}.{spelled}"
    return corpus


def header_token(**changes: Any) -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": "pool-key", **changes}
    payload_segment = access_token().split(".")[1]
    return signed(b64url(json.dumps(header).encode()), payload_segment)


HEADERS: dict[str, Callable[[], str]] = {
    "plain": lambda: header_token(),
    "crit b64 with b64 true": lambda: header_token(crit=["b64"], b64=True),
    "crit naming an unknown extension": lambda: header_token(crit=["exp"], exp=1),
    "crit empty": lambda: header_token(crit=[]),
    "crit a string": lambda: header_token(crit="b64", b64=True),
    "crit naming an absent member": lambda: header_token(crit=["b64"]),
    "crit with a number": lambda: header_token(crit=[1]),
    "b64 false with crit": lambda: header_token(crit=["b64"], b64=False),
    "b64 false without crit": lambda: header_token(b64=False),
    "kid a number": lambda: header_token(kid=7),
    "kid null": lambda: header_token(kid=None),
    "alg RS384": lambda: header_token(alg="RS384"),
    "alg null": lambda: header_token(alg=None),
    "no alg": lambda: signed(b64url(b'{"typ":"JWT","kid":"pool-key"}'), access_token().split(".")[1]),
}

CLAIMS: dict[str, Callable[[], str]] = {
    "valid": lambda: access_token(),
    "expired within the leeway": lambda: access_token(exp=int(time.time()) - 30),
    "expired beyond the leeway": lambda: access_token(exp=int(time.time()) - 61),
    "exp a float": lambda: access_token(exp=time.time() + 60.5),
    "exp a numeric string": lambda: access_token(exp=str(int(time.time()) + 600)),
    "exp null": lambda: access_token(exp=None),
    "exp true": lambda: access_token(exp=True),
    "exp past the year 9999": lambda: access_token(exp=10**20),
    "iat in the future within the leeway": lambda: access_token(iat=int(time.time()) + 30),
    "iat in the future beyond the leeway": lambda: access_token(iat=int(time.time()) + 600),
    "iat a numeric string": lambda: access_token(iat=str(int(time.time()))),
    "iat a word": lambda: access_token(iat="now"),
    "no iat": lambda: access_token(iat=None),
    "nbf in the future": lambda: access_token(nbf=int(time.time()) + 600),
    "nbf a word": lambda: access_token(nbf="soon"),
    "jti a number": lambda: access_token(jti=12),
    "sub a number": lambda: access_token(sub=12),
    "no token_use": lambda: access_token(token_use=None),
}


@pytest.mark.parametrize(("case", "token"), list(encoding_corpus().items()))
def test_each_spelling_of_a_segment_is_judged_as_jwt_decode_judges_it(case: str, token: str) -> None:
    assert ours_accept(token) == pyjwt_accepts(token), case


def test_the_encoding_corpus_has_both_answers() -> None:
    """Padding where the length allows it is accepted by both; so the corpus tests both ways."""
    answers = {case: pyjwt_accepts(token) for case, token in encoding_corpus().items()}
    assert answers["signature as is"]
    assert answers["signature two ="]  # 342 characters: two = make a multiple of 4
    assert not answers["signature one ="]
    assert not answers["signature non-canonical last character"]
    assert not answers["payload a character outside base64"]


@pytest.mark.parametrize("case", list(HEADERS))
def test_each_header_is_judged_as_jwt_decode_judges_it(case: str) -> None:
    token = HEADERS[case]()
    assert ours_accept(token) == pyjwt_accepts(token), case


@pytest.mark.parametrize("case", list(CLAIMS))
def test_claims_jwt_decode_refuses_are_refused(case: str) -> None:
    """Never accepted where ``jwt.decode`` refuses; refused more only by our own claim rules."""
    token = CLAIMS[case]()
    if ours_accept(token):
        assert pyjwt_accepts(token), case
    stricter = {"exp a numeric string", "exp true", "exp past the year 9999"}  # NumericDate, RFC 7519
    assert ours_accept(token) == (pyjwt_accepts(token) and case not in stricter), case


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        (b'\xef\xbb\xbf{"alg":"RS256","typ":"JWT","kid":"pool-key"}', None),  # UTF-8 BOM
        ('{"alg":"RS256","typ":"JWT","kid":"pool-key"}'.encode("utf-16"), None),
        (None, json.dumps(unverified_claims(access_token()))[:-1].encode() + b', "x": {"a": 1, "a": 2}}'),
    ],
    ids=["BOM", "UTF-16", "nested duplicate"],
)
def test_json_only_json_loads_would_read_is_refused(header: bytes | None, payload: bytes | None) -> None:
    """RFC 7515 §5.2: the header and claims are UTF-8; a member named twice is refused anywhere."""
    header_segment, payload_segment, _ = access_token().split(".")
    token = signed(
        b64url(header) if header is not None else header_segment,
        b64url(payload) if payload is not None else payload_segment,
    )
    with pytest.raises(Unauthenticated) as refused:
        verifier().verify(token)
    assert "malformed token" in refused.value.reason


def test_a_token_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """No pyjwt parse at all (``jwt.decode``, ``get_unverified_header``): the one parse is ours."""

    def second_parse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the token was parsed again")

    monkeypatch.setattr(jwt.api_jws.PyJWS, "_load", second_parse)
    monkeypatch.setattr(jwt.api_jwt.PyJWT, "decode_complete", second_parse)
    assert verifier().verify(access_token()).principal_id == ALICE_SUB


def test_a_weak_rsa_key_warns_as_jwt_decode_does() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point
    jwk = {**json.loads(RSAAlgorithm.to_jwk(weak.public_key())), "kid": "weak", "alg": "RS256"}
    header = b64url(json.dumps({"alg": "RS256", "kid": "weak"}).encode())
    token = signed(header, access_token().split(".")[1], key=weak)
    weak_verifier = TokenVerifier([Issuer.cognito(POOL_ID, [CLIENT], jwks={"keys": [jwk]})])
    with pytest.warns(jwt.InsecureKeyLengthWarning):
        assert weak_verifier.verify(token).principal_id == ALICE_SUB


def test_issuers_require_their_claims() -> None:
    pool = Issuer.cognito(POOL_ID, [CLIENT], jwks=POOL.jwks())
    assert pool.claim_options["require"] == ["exp", "iat", "iss", "sub", "token_use"]
    assert pool.claim_options["verify_aud"] is False  # aud or client_id: by token_use, in the verifier
    checks = ("verify_signature", "verify_exp", "verify_nbf", "verify_iat", "verify_iss")
    assert all(pool.claim_options[check] for check in checks)


# ----------------------------------------------------------------------------- the response


def test_a_callers_principal_is_read_back_once() -> None:
    first = verifier().verify(access_token())
    second = verifier().verify(access_token(jti="another"))
    assert first.principal() is first.principal()
    assert first.principal() is second.principal()  # same context: the same read-back
    assert first.principal().sub == ALICE_SUB


def test_a_different_context_reads_back_its_own_principal() -> None:
    alice = Caller("A1", {"sub": "A1", "username": "alice", "groups": '["Admin"]'}, expires_at=None)
    bob = Caller("B2", {"sub": "B2", "username": "bob", "groups": "[]"}, expires_at=None)
    assert (alice.principal().sub, alice.principal().groups) == ("A1", ("Admin",))
    assert (bob.principal().sub, bob.principal().groups) == ("B2", ())
    assert alice == Caller("A1", dict(alice.context), expires_at=None)  # the memo is no part of equality


def test_successes_log_at_debug_and_refusals_at_info(monkeypatch: pytest.MonkeyPatch) -> None:
    lines: list[tuple[str, str]] = []
    for level in ("debug", "info"):
        monkeypatch.setattr(
            authorizer_module.logger, level, lambda msg, *a, level=level, **k: lines.append((level, msg))
        )
    authorizer = LambdaAuthorizer(verifier(), schema=SCHEMA)

    assert authorizer.handle(authorizer_event(CallerKind.APPSYNC, access_token()))["isAuthorized"] is True
    assert authorizer.handle(authorizer_event(CallerKind.APPSYNC, "Bearer a.b.c")) == {"isAuthorized": False}
    assert lines == [("debug", "authorized"), ("info", "denied")]
