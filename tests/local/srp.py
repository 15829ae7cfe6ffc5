"""The client side of Cognito's SRP (``USER_SRP_AUTH``), as aws-amplify and pycognito's AWSSRP
compute it, for the tests: written from the protocol, not from the endpoint's code, so the two
check each other. Only the group (RFC 3526's 3072-bit prime, g = 2) is shared.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from modelauth.local.userpool import N

G_HEX = "2"
N_HEX = format(N, "X")


def pad_hex(value: int | str) -> str:
    """Hex of ``value``, even length, with ``00`` in front when the first nibble is 8 or more."""
    text = value if isinstance(value, str) else format(value, "x")
    if len(text) % 2:
        return "0" + text
    return "00" + text if text[0] in "89ABCDEFabcdef" else text


def hash_hex(hex_text: str) -> str:
    return hashlib.sha256(bytes.fromhex(hex_text)).hexdigest()


class SrpClient:
    """One USER_SRP_AUTH sign-in of ``username`` with ``password`` in pool ``pool_id``."""

    def __init__(self, pool_id: str, username: str, password: str) -> None:
        self.pool_name = pool_id.split("_", 1)[1]
        self.username = username
        self.password = password
        self.big_n = int(N_HEX, 16)
        self.g = int(G_HEX, 16)
        self.k = int(hash_hex("00" + N_HEX + "0" + G_HEX), 16)
        self.small_a = secrets.randbelow(self.big_n - 1) + 1
        self.large_a = pow(self.g, self.small_a, self.big_n)

    def auth_parameters(self) -> dict[str, str]:
        return {"USERNAME": self.username, "SRP_A": format(self.large_a, "x")}

    def challenge_responses(self, parameters: dict[str, Any], timestamp: str | None = None) -> dict[str, str]:
        """The PASSWORD_VERIFIER answer to InitiateAuth's ChallengeParameters."""
        user_id = parameters["USER_ID_FOR_SRP"]
        salt, server_b = parameters["SALT"], int(parameters["SRP_B"], 16)
        u = int(hash_hex(pad_hex(self.large_a) + pad_hex(server_b)), 16)
        user_hash = hashlib.sha256(f"{self.pool_name}{user_id}:{self.password}".encode()).hexdigest()
        x = int(hash_hex(pad_hex(salt) + user_hash), 16)
        base = server_b - self.k * pow(self.g, x, self.big_n)
        premaster = pow(base, self.small_a + u * x, self.big_n)
        prk = hmac.new(bytes.fromhex(pad_hex(u)), bytes.fromhex(pad_hex(premaster)), hashlib.sha256).digest()
        key = hmac.new(prk, b"Caldera Derived Key" + bytes([1]), hashlib.sha256).digest()[:16]
        if timestamp is None:
            timestamp = re.sub(r" 0(\d) ", r" \1 ", datetime.now(UTC).strftime("%a %b %d %H:%M:%S UTC %Y"))
        message = (
            self.pool_name.encode()
            + user_id.encode()
            + base64.standard_b64decode(parameters["SECRET_BLOCK"])
            + timestamp.encode()
        )
        signature = base64.standard_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
        return {
            "USERNAME": parameters["USERNAME"],
            "PASSWORD_CLAIM_SECRET_BLOCK": parameters["SECRET_BLOCK"],
            "PASSWORD_CLAIM_SIGNATURE": signature,
            "TIMESTAMP": timestamp,
        }
