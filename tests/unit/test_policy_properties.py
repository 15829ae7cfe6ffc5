"""Properties of :func:`modelauth.policy.decide` for generated callers, rule lists and items.

An independent oracle below restates the semantics naively for a subset of the DSL (public API
key, authenticated, owner / owners, static groups, dynamic group(s), each with ``.to()``, in the
API_KEY, user-pool and OIDC modes). It never calls the engine: rules are generated as plain
:class:`Spec` values that are both built with the DSL and read by the oracle.

1. ``decide`` with the stored item (or the create input) agrees with the oracle.
2. Adding a rule never removes access.
3. With no rule for the caller's auth mode the answer is deny.
4. A rule for another auth mode is ignored: adding it changes nothing at all.
5. For reads, ``decide(...)`` without the item, then ``Decision.permits(item)``, gives the same
   answer as ``decide(..., item=item)``.
6. A constraint never matches an item whose owner and group fields are absent or null.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from modelauth.identity import AuthMode, Principal
from modelauth.policy import Decision, decide
from modelauth.rules import READ_OPERATIONS, Field, Model, Operation, Rule, allow

SUBS = ["s1", "s2"]
USERNAMES = ["u1", "u2"]
GROUPS = ["G1", "G2", "G3"]
CLAIMS = ["sub::username", "sub", "username"]
OWNER_VALUES = ["s1", "s2", "u1", "u2", "s1::u1", "s2::u2", "s1::u2", ""]
# the item field each dynamic kind keeps its names in, and whether it is a list
FIELDS = {
    "owner": ("owner", False),
    "owners": ("editors", True),
    "group": ("team", False),
    "groups": ("teams", True),
}
MODES = {"apiKey": AuthMode.API_KEY, "userPools": AuthMode.USER_POOLS, "oidc": AuthMode.OIDC}
AUTH_FIELDS = [name for name, _ in FIELDS.values()]


# --------------------------------------------------------------------------- generated values


@dataclass(frozen=True)
class Spec:
    """A rule as plain data. ``kind``: public, private, static, or a FIELDS key (dynamic)."""

    kind: str
    provider: str
    ops: frozenset[Operation]
    claim: str = "sub::username"
    groups: tuple[str, ...] = ()

    def build(self) -> Rule:
        if self.kind == "public":
            rule = allow.public_api_key()
        elif self.kind == "private":
            rule = allow.authenticated(self.provider)
        elif self.kind == "static":
            rule = allow.groups(list(self.groups), self.provider)
        elif self.kind in ("owner", "owners"):
            builder = allow.owners_defined_in if self.kind == "owners" else allow.owner_defined_in
            rule = builder(FIELDS[self.kind][0], self.provider).identity_claim(self.claim)
        else:
            builder = allow.groups_defined_in if self.kind == "groups" else allow.group_defined_in
            rule = builder(FIELDS[self.kind][0], self.provider)
        return rule.to(sorted(self.ops))


@dataclass(frozen=True)
class Caller:
    mode: AuthMode
    sub: str | None = None
    username: str | None = None
    groups: tuple[str, ...] = ()

    def principal(self) -> Principal:
        claims: dict[str, Any] = {
            "sub": self.sub,
            "username": self.username,
            "cognito:groups": list(self.groups),
        }
        return Principal(
            self.mode,
            sub=self.sub,
            username=self.username,
            claims={k: v for k, v in claims.items() if v is not None} if self.sub else {},
            groups=self.groups,
        )


@st.composite
def specs(draw: st.DrawFn, kinds: Sequence[str] = ("public", "private", "static", *FIELDS)) -> Spec:
    kind = draw(st.sampled_from(kinds))
    provider = "apiKey" if kind == "public" else draw(st.sampled_from(["userPools", "oidc"]))
    ops = frozenset(draw(st.sets(st.sampled_from(list(Operation)), min_size=1)))
    claim = draw(st.sampled_from(CLAIMS))
    groups = tuple(draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=2, unique=True)))
    return Spec(kind, provider, ops, claim, groups)


@st.composite
def callers(draw: st.DrawFn) -> Caller:
    mode = draw(st.sampled_from(list(MODES.values())))
    if mode is AuthMode.API_KEY:
        return Caller(mode)
    groups = tuple(draw(st.lists(st.sampled_from(GROUPS), unique=True)))
    return Caller(mode, draw(st.sampled_from(SUBS)), draw(st.sampled_from([*USERNAMES, None])), groups)


NAMES = st.sampled_from(OWNER_VALUES)
GROUP_NAMES = st.sampled_from(GROUPS)
items = st.fixed_dictionaries(
    {"id": st.just("i1"), "title": st.just("t")},
    optional={
        "owner": st.none() | NAMES,
        "editors": st.none() | st.lists(NAMES, max_size=3),
        "team": st.none() | GROUP_NAMES,
        "teams": st.none() | st.lists(GROUP_NAMES, max_size=3),
    },
)
rule_lists = st.lists(specs(), min_size=1, max_size=4)
operations = st.sampled_from(list(Operation))


# --------------------------------------------------------------------------- the oracle


def identities(caller: Caller, claim: str) -> set[str] | None:
    """The owner values that are the caller: the composite and each part; None if a part is missing."""
    known = {"sub": caller.sub, "username": caller.username}
    parts = [known[name] for name in claim.split("::")]
    if not all(parts):
        return None
    return {"::".join(p for p in parts if p), *(p for p in parts if p)}


def holds(stored: Any, wanted: set[str], is_list: bool) -> bool:
    if is_list:
        return isinstance(stored, list) and any(value in wanted for value in stored)
    return stored in wanted


def oracle(caller: Caller, rules: Sequence[Spec], op: Operation, target: Mapping[str, Any]) -> bool:
    """May ``caller`` do ``op``? ``target`` is the create input, else the stored item."""
    for spec in rules:
        if op not in spec.ops or MODES[spec.provider] is not caller.mode:
            continue
        if spec.kind in ("public", "private"):
            return True
        if spec.kind == "static":
            if set(caller.groups) & set(spec.groups):
                return True
            continue
        name, is_list = FIELDS[spec.kind]
        wanted = identities(caller, spec.claim) if spec.kind.startswith("owner") else set(caller.groups)
        if not wanted:
            continue
        if spec.kind.startswith("owner") and op is Operation.CREATE and name not in target:
            return True  # the owner is filled in from the caller's claims
        if holds(target.get(name), wanted, is_list):
            return True
    return False


# --------------------------------------------------------------------------- helpers


def model_of(rules: Sequence[Spec]) -> Model:
    return Model("Thing", fields=[Field("title")], rules=[spec.build() for spec in rules])


def decide_on(caller: Caller, rules: Sequence[Spec], op: Operation, item: Mapping[str, Any]) -> Decision:
    """Decide with everything known: the stored item, or the item's fields as the create input."""
    principal, model = caller.principal(), model_of(rules)
    if op is Operation.CREATE:
        return decide(principal, model, op, input={k: v for k, v in item.items() if k != "id"})
    data = {"title": "new"} if op is Operation.UPDATE else None
    return decide(principal, model, op, item=item, input=data)


def other_mode(caller: Caller, spec: Spec) -> bool:
    return MODES[spec.provider] is not caller.mode


# --------------------------------------------------------------------------- properties


@settings(max_examples=300)
@given(callers(), rule_lists, operations, items)
def test_decide_agrees_with_the_oracle(
    caller: Caller, rules: list[Spec], op: Operation, item: dict[str, Any]
) -> None:
    target = {k: v for k, v in item.items() if k != "id"} if op is Operation.CREATE else item
    assert decide_on(caller, rules, op, item).allowed is oracle(caller, rules, op, target)


@settings(max_examples=300)
@given(callers(), rule_lists, specs(), operations, items)
def test_adding_a_rule_never_removes_access(
    caller: Caller, rules: list[Spec], extra: Spec, op: Operation, item: dict[str, Any]
) -> None:
    if decide_on(caller, rules, op, item).allowed:
        assert decide_on(caller, [*rules, extra], op, item).allowed


@settings(max_examples=200)
@given(callers(), rule_lists, operations, items)
def test_no_rule_for_the_callers_mode_means_deny(
    caller: Caller, rules: list[Spec], op: Operation, item: dict[str, Any]
) -> None:
    foreign = [spec for spec in rules if other_mode(caller, spec)]
    assume(foreign)
    decision = decide_on(caller, foreign, op, item)
    assert not decision.allowed
    assert decision.reason.startswith("no rule for provider")


@settings(max_examples=300)
@given(callers(), rule_lists, specs(), operations, items)
def test_a_rule_for_another_mode_changes_nothing(
    caller: Caller, rules: list[Spec], extra: Spec, op: Operation, item: dict[str, Any]
) -> None:
    assume(other_mode(caller, extra))
    for known in (item, None):
        principal = caller.principal()
        before = decide(principal, model_of(rules), op, item=known, input={"title": "new"})
        after = decide(principal, model_of([*rules, extra]), op, item=known, input={"title": "new"})
        assert after == before


@settings(max_examples=300)
@given(callers(), rule_lists, st.sampled_from(sorted(READ_OPERATIONS)), items)
def test_permits_with_the_constraint_equals_deciding_with_the_item(
    caller: Caller, rules: list[Spec], op: Operation, item: dict[str, Any]
) -> None:
    principal, model = caller.principal(), model_of(rules)
    assert decide(principal, model, op).permits(item) is decide(principal, model, op, item=item).allowed


@settings(max_examples=300)
@given(callers(), st.lists(specs(kinds=list(FIELDS)), min_size=1, max_size=3), operations, st.booleans())
def test_a_constraint_never_matches_an_item_without_owner_or_group_values(
    caller: Caller, rules: list[Spec], op: Operation, null: bool
) -> None:
    decision = decide(caller.principal(), model_of(rules), op, input={"title": "new"})
    bare = {"id": "i1", "title": "t", **dict.fromkeys(AUTH_FIELDS if null else [])}
    if decision.constraint is not None:
        assert not decision.constraint.matches(bare)
        assert not decision.permits(bare)
