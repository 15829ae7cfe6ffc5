"""Schema-build errors of the ``allow`` DSL: Amplify's exact texts (spec §1.3, §2.1, §2.3), field
kinds for owner and groups fields, and the fields rules add to a model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from modelauth.rules import (
    Field,
    Model,
    Operation,
    Provider,
    Rule,
    SchemaError,
    Strategy,
    allow,
    parse_operations,
)

GROUPS_PROVIDER = (
    "@auth directive with 'groups' strategy only supports 'userPools' and 'oidc' providers, "
    "but found '{}' assigned."
)
OWNER_PROVIDER = (
    "@auth directive with 'owner' strategy only supports 'userPools' (default) and 'oidc' providers, "
    "but found '{}' assigned."
)
PUBLIC_PROVIDER = (
    "@auth directive with 'public' strategy only supports 'apiKey' (default) and 'identityPool' providers, "
    "but found '{}' assigned."
)
PRIVATE_PROVIDER = (
    "@auth directive with 'private' strategy only supports 'userPools' (default) and 'identityPool' "
    "providers, but found '{}' assigned."
)
CUSTOM_PROVIDER = (
    "@auth directive with 'custom' strategy only supports 'function' (default) provider, "
    "but found '{}' assigned."
)
REQUIRED_UNREADABLE = (
    "When using field-level authorization rules you need to add rules to all of the model's required "
    'fields with at least read permissions. Found model "{}" with required fields {} missing field-level '
    "authorization rules.\n\nFor more information visit "
    "https://docs.amplify.aws/cli/graphql/authorization-rules/#field-level-authorization-rules"
)


OWNER = allow.owner()


def required(name: str, *rules: Rule) -> Field:
    return Field(name, required=True, rules=list(rules) if rules else None)


BUILD_ERRORS: dict[str, tuple[Callable[[], Any], str]] = {
    "groups-with-apiKey": (lambda: allow.group("Admin", "apiKey"), GROUPS_PROVIDER.format("apiKey")),
    "groups-with-identityPool": (
        lambda: allow.groups(["A"], "identityPool"),
        GROUPS_PROVIDER.format("identityPool"),
    ),
    "groups-field-with-function": (
        lambda: allow.group_defined_in("team", "function"),
        GROUPS_PROVIDER.format("function"),
    ),
    "groups-without-list-or-field": (
        lambda: Rule(Strategy.GROUPS, Provider.USER_POOLS),
        "@auth directive with 'groups' should have a defined groups list or a groupsField.",
    ),
    "owner-with-apiKey": (lambda: allow.owner("apiKey"), OWNER_PROVIDER.format("apiKey")),
    "owners-with-iam-resource-provider": (
        lambda: Rule(Strategy.OWNER, Provider.IAM, owner_field="owner"),
        OWNER_PROVIDER.format("iam"),
    ),
    "public-with-userPools": (
        lambda: Rule(Strategy.PUBLIC, Provider.USER_POOLS),
        PUBLIC_PROVIDER.format("userPools"),
    ),
    "private-with-apiKey": (lambda: allow.authenticated("apiKey"), PRIVATE_PROVIDER.format("apiKey")),
    "private-with-function": (lambda: allow.authenticated("function"), PRIVATE_PROVIDER.format("function")),
    "custom-with-userPools": (lambda: allow.custom("userPools"), CUSTOM_PROVIDER.format("userPools")),
    "groups-and-groups-field": (
        lambda: Rule(Strategy.GROUPS, Provider.USER_POOLS, groups=("A",), groups_field="team"),
        "This rule has groupsField and groups, please use one or the other",
    ),
    "empty-static-list": (lambda: allow.groups([]), "@auth rules using groups cannot have an empty list"),
    "identity-claim-on-groups": (
        lambda: allow.group("A").identity_claim("sub"),
        "@auth identityClaim can only be used for 'allow: owner'",
    ),
    "group-claim-on-owner": (
        lambda: allow.owner().with_claim_in("user_groups"),
        "@auth groupClaim can only be used 'allow: groups'",
    ),
    "read-mixed-with-its-members": (
        lambda: allow.owner().to(["read", "list", "get"]),
        "'list, get' operations are specified in addition to 'read'. Either remove 'read' to limit "
        "access only to 'list, get' or only keep 'read' to grant all get,list,search,listen,sync access.",
    ),
    "field-rule-with-a-model-only-operation": (
        lambda: Field("ssn", rules=[allow.owner().to(["get"])]),
        "'get' operation is not allowed at the field level.",
    ),
    "field-rule-all-of-member-with-a-model-only-operation": (
        lambda: Field("ssn", rules=[allow.all_of(allow.owner().to(["listen"]), allow.group("A"))]),
        "'listen' operation is not allowed at the field level.",
    ),
    "required-field-hidden-from-a-model-reader": (
        lambda: Model("Employee", fields=[required("ssn", allow.owner())], rules=[allow.authenticated()]),
        REQUIRED_UNREADABLE.format("Employee", '["ssn"]'),
    ),
    "required-fields-without-the-field-only-reader": (
        lambda: Model(
            "Doc",
            fields=[required("title"), required("body"), Field("summary", rules=[allow.public_api_key()])],
            rules=[allow.owner()],
        ),
        REQUIRED_UNREADABLE.format("Doc", '["title","body"]'),
    ),
    "owners-rule-on-a-scalar-field": (
        lambda: Model("Doc", fields=[Field("editors")], rules=[allow.owners_defined_in("editors")]),
        "Doc.editors must be [String] for rule owner(editors) via userPools",
    ),
    "owner-rule-on-a-list-field": (
        lambda: Model("Doc", fields=[Field("owner", is_list=True)], rules=[allow.owner()]),
        "Doc.owner must be String for rule owner(owner) via userPools",
    ),
    "owner-rule-on-an-int-field": (
        lambda: Model("Doc", fields=[Field("owner", "Int")], rules=[allow.owner()]),
        "Doc.owner must be String for rule owner(owner) via userPools",
    ),
    "groups-field-rule-on-a-scalar-field": (
        lambda: Model("Doc", fields=[Field("teams")], rules=[allow.groups_defined_in("teams")]),
        "Doc.teams must be [String] for rule groups(teams) via userPools",
    ),
    "one-field-single-and-multi": (
        lambda: Model("Doc", rules=[allow.owner_defined_in("x"), allow.owners_defined_in("x")]),
        "Doc.x must be [String] for rule owner(x) via userPools",
    ),
    "field-rule-kind-checked-too": (
        lambda: Model(
            "Doc", fields=[Field("e"), Field("n", rules=[allow.owners_defined_in("e")])], rules=[OWNER]
        ),
        "Doc.e must be [String] for rule owner(e) via userPools",
    ),
    "all-of-across-modes": (
        lambda: allow.all_of(allow.owner(), allow.public_api_key()),
        "all_of rules must share one auth mode, or they could never all match",
    ),
    "all-of-of-one-rule": (lambda: allow.all_of(allow.owner()), "all_of needs at least two rules"),
    "resource-without-roles": (
        lambda: allow.resource(),
        "resource rules need at least one IAM role name or role ARN",
    ),
    "unknown-provider": (lambda: allow.authenticated("cognito"), "unknown auth provider 'cognito'"),
    "unknown-operation": (lambda: allow.owner().to(["read", "write"]), "unknown operation 'write'"),
    "empty-operations": (lambda: allow.owner().to([]), "operations must not be empty"),
    "allow-transfer-on-groups": (
        lambda: allow.group("A").allow_transfer(),
        "allow_transfer can only be used on owner rules",
    ),
}


@pytest.mark.parametrize("case", BUILD_ERRORS)
def test_invalid_rule_fails_at_build_time_with_amplifys_text(case: str) -> None:
    build, message = BUILD_ERRORS[case]
    with pytest.raises(SchemaError) as raised:
        build()
    assert str(raised.value) == message


VALID = {
    "required-field-readable-by-every-reader": lambda: Model(
        "Employee",
        fields=[required("name", allow.owner(), allow.authenticated().to(["read"]))],
        rules=[allow.authenticated().to(["read"]), allow.owner()],
    ),
    "static-groups-split-into-readers": lambda: Model(
        "Salary",
        fields=[required("amount", allow.group("A"), allow.group("B"))],
        rules=[allow.groups(["A", "B"])],
    ),
    "required-field-readable-only-by-write-roles-is-not-read": lambda: Model(
        "Todo",
        fields=[required("content", allow.owner())],
        rules=[allow.owner(), allow.group("Ops").to(["create"])],
    ),
    "declared-owner-field-of-the-right-kind": lambda: Model(
        "Doc",
        fields=[Field("editors", is_list=True), Field("owner", "ID")],
        rules=[allow.owners_defined_in("editors"), OWNER],
    ),
    "field-level-operations": lambda: Field(
        "ssn", rules=[allow.owner().to(["create", "update", "delete", "read"])]
    ),
}


@pytest.mark.parametrize("case", VALID)
def test_valid_schema_builds(case: str) -> None:
    VALID[case]()


@pytest.mark.parametrize(
    ("rule", "provider"),
    [
        (allow.authenticated("iam"), Provider.IDENTITY_POOL),
        (allow.authenticated("identityPool"), Provider.IDENTITY_POOL),
        (allow.authenticated("user_pools"), Provider.USER_POOLS),
        (allow.owner("lambda"), Provider.FUNCTION),
        (allow.owner("identityPool"), Provider.IDENTITY_POOL),
        (allow.resource("r"), Provider.IAM),
    ],
    ids=["gen1-iam-is-identity-pool", "identityPool", "snake-case", "lambda-alias", "iam-owner", "resource"],
)
def test_provider_spellings(rule: Rule, provider: Provider) -> None:
    assert rule.provider is provider


@pytest.mark.parametrize(
    ("rules", "added"),
    [
        ([allow.owner()], {"owner": False}),
        ([allow.owner_defined_in("author")], {"author": False}),
        ([allow.owners_defined_in("editors")], {"editors": True}),
        ([allow.group_defined_in("team")], {"team": False}),
        ([allow.groups_defined_in("groups")], {"groups": True}),
        ([allow.group("Admin"), allow.authenticated()], {}),
        (
            [allow.all_of(allow.owner(), allow.groups_defined_in("tenants"))],
            {"owner": False, "tenants": True},
        ),
    ],
    ids=["owner", "owner-defined-in", "owners", "group-field", "groups-field", "static-only", "all-of"],
)
def test_rules_add_their_owner_and_groups_fields(rules: list[Rule], added: dict[str, bool]) -> None:
    model = Model("Doc", fields=[Field("title")], rules=rules)
    kinds = {name: "[String]" if multi else "String" for name, multi in added.items()}
    assert {f.name: f.graphql_type for f in model.fields} == {"title": "String", **kinds}


def test_field_rules_add_their_fields_and_count_as_owner_rules() -> None:
    model = Model(
        "Profile",
        fields=[Field("ssn", rules=[allow.owner_defined_in("holder")])],
        rules=[allow.authenticated()],
    )
    assert [f.name for f in model.fields] == ["ssn", "holder"]
    assert [r.owner_field for r in model.owner_rules] == ["holder"]


def test_read_expansion_and_defaults() -> None:
    assert allow.owner().operations == frozenset(Operation)
    assert parse_operations(["read"]) == {
        Operation.GET,
        Operation.LIST,
        Operation.LISTEN,
        Operation.SYNC,
        Operation.SEARCH,
    }
    assert allow.owner().to([Operation.CREATE, "read"]).operations == parse_operations(["create", "read"])


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("my model", "use letters and digits, starting with a letter"),
        ("Todo_Item", "use letters and digits"),
        ("1Todo", "use letters and digits"),
        ("", "use letters and digits"),
        ("T" * 65, "use letters and digits"),
        ("Query", "is a GraphQL root type or scalar"),
        ("AWSDateTime", "is a GraphQL root type or scalar"),
    ],
)
def test_a_model_name_that_cannot_name_a_type_and_its_resources_is_refused(name: str, says: str) -> None:
    with pytest.raises(SchemaError, match=says):
        Model(name, rules=[allow.public_api_key()])


def test_a_plural_is_checked_like_a_name() -> None:
    with pytest.raises(SchemaError, match="Todo: plural 'to dos'"):
        Model("Todo", plural="to dos", rules=[allow.public_api_key()])


@pytest.mark.parametrize(
    ("first", "second", "clash"),
    [
        (
            Model("Todo", rules=[allow.owner()]),
            Model("ModelTodoConnection", rules=[allow.owner()]),
            "type ModelTodoConnection",
        ),
        (
            Model("Item", plural="Things", rules=[allow.owner()]),
            Model("Thing", plural="Things", rules=[allow.owner()]),
            "field Query.listThings",
        ),
        (
            Model("Todo", rules=[allow.owner()]),
            Model("TODO", rules=[allow.owner()]),
            "table variable TABLE_TODO",
        ),
        (
            Model("Item", rules=[allow.owner()]),
            Model("CreateItemInput", rules=[allow.owner()]),
            "type CreateItemInput",
        ),
    ],
)
def test_two_models_that_would_define_one_name_are_refused(first: Model, second: Model, clash: str) -> None:
    from modelauth.rules import Schema

    with pytest.raises(SchemaError, match=f"models {first.name} and {second.name} both define the {clash}"):
        Schema([first, second])
    Schema([first])  # each alone is fine


@pytest.mark.parametrize("group", ["Sales Team", "a\tb", "x" * 129, "new\nline"])
def test_a_user_pool_group_cognito_cannot_hold_is_refused(group: str) -> None:
    with pytest.raises(SchemaError, match="a Cognito group name is 1-128 characters"):
        allow.group(group)
    allow.groups([group], "oidc")  # an OIDC provider's group claim may hold any string


@pytest.mark.parametrize("group", ["", None, 7])
def test_a_group_name_must_be_a_non_empty_string(group: Any) -> None:
    with pytest.raises(SchemaError, match="group names must be non-empty strings"):
        allow.groups([group])


@pytest.mark.parametrize("group", ["Admin", "sales-EU", "Über_admins", "a.b+c@d", "x" * 128])
def test_group_names_cognito_holds_are_accepted(group: str) -> None:
    assert allow.group(group).groups == (group,)
