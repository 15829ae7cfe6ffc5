"""The embedded local backend: the app's tables (and later users) in moto, no AWS account.

Used by ``make demo``, the tests and the local endpoint. moto is a development dependency,
imported only when a function here is called.

Example::

    from moto import mock_aws
    with mock_aws():
        client = dynamodb_client()
        create_tables(client, SCHEMA)   # Todo table with its byOwner index
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelauth.rules import CustomType, Enum, Field, Model, Schema, key_attribute_type
from modelauth.store import (
    INDEX_TABLE,
    index_fields,
    index_name,
    index_table_definition,
    owner_index_sort_key,
)

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient

__all__ = [
    "LocalUserPool",
    "appsync_event",
    "create_tables",
    "moto_jwks",
    "sample_input",
    "sample_value",
    "selection_of",
    "table_definition",
    "user_pool_identity",
]


def table_definition(model: Model, table_name: str) -> dict[str, Any]:
    """The CreateTable request for a model: ``id`` key (or the identifier's partition and sort
    key), one ``by<Field>`` index per single-valued owner field (HASH owner, RANGE the creation
    timestamp, ``createdAt`` unless ``Model.timestamps`` renames it; HASH only when it turns it
    off) and one GSI per secondary index (:attr:`Model.secondary_indexes`), as template.yaml
    declares."""
    owner_fields = sorted({r.owner_field for r in model.owner_rules if r.owner_field and not r.multi})
    created = owner_index_sort_key(model)
    keys: list[tuple[str, str, str | None]] = [(index_name(n), n, created) for n in owner_fields]
    keys += [(i.gsi_name(model), i.partition_key, i.sort_key) for i in model.secondary_indexes]
    attributes = {name: key_attribute_type(model, name) for name in model.key_fields}
    if owner_fields:  # the order template.yaml has always had: id, createdAt, owner fields
        attributes.update({**({created: "S"} if created else {}), **dict.fromkeys(owner_fields, "S")})
    indexes = []
    for name, partition, sort in keys:
        schema = [{"AttributeName": partition, "KeyType": "HASH"}]
        if sort is not None:
            schema.append({"AttributeName": sort, "KeyType": "RANGE"})
        for attribute in (partition, sort):
            if attribute is not None:
                attributes.setdefault(attribute, key_attribute_type(model, attribute))
        indexes.append({"IndexName": name, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}})
    request: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": [
            {"AttributeName": name, "KeyType": kind}
            for name, kind in zip(model.key_fields, ("HASH", "RANGE"), strict=False)
        ],
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in attributes.items()],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if indexes:
        request["GlobalSecondaryIndexes"] = indexes
    return request


#: a valid value of each scalar type (AppSync's formats), for sample inputs
SAMPLE_VALUES: Mapping[str, Any] = {
    "ID": "sample-id",
    "String": "sample",
    "Int": 1,
    "Float": 1.5,
    "Boolean": True,
    "AWSDate": "2026-01-01",
    "AWSTime": "12:00:00.000Z",
    "AWSDateTime": "2026-01-01T12:00:00.000Z",
    "AWSTimestamp": 1767268800,
    "AWSEmail": "someone@example.com",
    "AWSJSON": "{}",
    "AWSURL": "https://example.com/",
    "AWSPhone": "+12065550100",
    "AWSIPAddress": "192.0.2.1",
}


def sample_input(model: Model, item_id: str | None = None) -> dict[str, Any]:
    """A create input for ``model``: a valid value for every field but its owner fields (the
    resolver fills those from the caller).

    >>> from modelauth.rules import Field, Model, allow
    >>> sample_input(Model("Todo", fields=[Field("done", "Boolean")], rules=[allow.owner()]), "t1")
    {'id': 't1', 'done': True}
    """
    owners = {r.owner_field for r in model.owner_rules}
    values: dict[str, Any] = {} if item_id is None else {"id": item_id}
    for field in model.fields:
        if field.name in owners:
            continue
        value = sample_value(field)
        values[field.name] = [value] if field.is_list else value
    return values


def sample_value(field: Field) -> Any:
    """One valid value of ``field``'s type (not wrapped in a list): its default, the enum's first
    member, a custom type's object with every field, or the scalar's sample.

    >>> sample_value(Field("home", CustomType("Address", [Field("zip", "Int", is_list=True)])))
    {'zip': [1]}
    """
    kind = field.type
    if field.default is not None:
        return field.default
    if isinstance(kind, Enum):
        return kind.values[0]
    if isinstance(kind, CustomType):
        return {f.name: [sample_value(f)] if f.is_list else sample_value(f) for f in kind.fields}
    return SAMPLE_VALUES.get(kind, "sample")


def selection_of(fields: Iterable[Field]) -> str:
    """The GraphQL selection of every field, custom types with theirs: ``id home { zip }``.

    >>> selection_of([Field("home", CustomType("Address", [Field("zip", "Int")]))])
    'home { zip }'
    """
    return " ".join(
        f"{f.name} {{ {selection_of(f.type.fields)} }}" if isinstance(f.type, CustomType) else f.name
        for f in fields
    )


def create_tables(
    client: DynamoDBClient,
    schema: Schema,
    table_names: Mapping[str, str] | None = None,
    *,
    index_table: str = INDEX_TABLE,
) -> dict[str, str]:
    """Create every model's table (named by ``table_names`` or the model name) and the index
    table (``index_table``) when a model needs one, skipping tables that exist; returns the
    model → table map."""
    names = {m.name: (table_names or {}).get(m.name, m.name) for m in schema.models}
    existing = set(client.list_tables().get("TableNames", []))
    for model in schema.models:
        if names[model.name] not in existing:
            client.create_table(**table_definition(model, names[model.name]))
    if any(index_fields(m) for m in schema.models) and index_table not in existing:
        client.create_table(**index_table_definition(index_table))
    return names


# -- Cognito in moto: real RS256 tokens for local users -------------------------------------------


def moto_jwks() -> dict[str, Any]:
    """The public JWKS moto signs its Cognito tokens with (moto ships it as a resource)."""
    import gzip
    import json
    from importlib.resources import files

    data = files("moto.cognitoidp").joinpath("resources/jwks-public.json.gz").read_bytes()
    jwks: dict[str, Any] = json.loads(gzip.decompress(data))
    return jwks


@dataclass
class LocalUserPool:
    """A Cognito user pool + app client + groups in moto, with users that sign in for real."""

    client: CognitoIdentityProviderClient
    pool_id: str
    client_id: str
    region: str

    @classmethod
    def create(
        cls, client: CognitoIdentityProviderClient, name: str = "modelauth-local", groups: Iterable[str] = ()
    ) -> LocalUserPool:
        pool_id = client.create_user_pool(PoolName=name)["UserPool"]["Id"]
        client_id = client.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=f"{name}-client",
            ExplicitAuthFlows=[
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
        )["UserPoolClient"]["ClientId"]
        for group in groups:
            client.create_group(GroupName=group, UserPoolId=pool_id)
        return cls(client, pool_id, client_id, client.meta.region_name)

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"

    def add_user(
        self,
        username: str,
        password: str,
        groups: Iterable[str] = (),
        attributes: Mapping[str, str] | None = None,
    ) -> str:
        """Create a confirmed user (optionally in groups, with attributes); returns its ``sub``."""
        user = self.client.admin_create_user(
            UserPoolId=self.pool_id,
            Username=username,
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": k, "Value": v} for k, v in (attributes or {}).items()],
        )
        self.client.admin_set_user_password(
            UserPoolId=self.pool_id, Username=username, Password=password, Permanent=True
        )
        for group in groups:
            self.client.admin_add_user_to_group(UserPoolId=self.pool_id, Username=username, GroupName=group)
        attributes = {a["Name"]: a.get("Value", "") for a in user["User"].get("Attributes", [])}
        return attributes.get("sub", "")

    def sign_in(self, username: str, password: str) -> dict[str, str]:
        """``{"AccessToken", "IdToken", "RefreshToken"}`` from USER_PASSWORD_AUTH."""
        result = self.client.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )["AuthenticationResult"]
        return {k: str(v) for k, v in result.items() if k in ("AccessToken", "IdToken", "RefreshToken")}


# -- AppSync as a local caller sees it ------------------------------------------------------------


def user_pool_identity(claims: Mapping[str, Any], source_ip: str = "127.0.0.1") -> dict[str, Any]:
    """The ``identity`` AppSync builds from verified user-pool claims (spec §7.1)."""
    groups = claims.get("cognito:groups")
    return {
        "sub": claims.get("sub"),
        "issuer": claims.get("iss"),
        "username": claims.get("username") or claims.get("cognito:username"),
        "claims": dict(claims),
        "sourceIp": [source_ip],
        "defaultAuthStrategy": "ALLOW",
        # a list as AppSync mirrors it; anything else is left to the claim (never list("Admin"))
        "groups": list(groups) if isinstance(groups, list) and groups else None,
    }


def appsync_event(
    parent_type: str,
    field_name: str,
    arguments: Mapping[str, Any],
    identity: Mapping[str, Any] | None,
    *,
    headers: Mapping[str, str] | None = None,
    selection: Iterable[str] = (),
    auth_type: str | None = None,
) -> dict[str, Any]:
    """A direct-resolver event in AppSync's shape (spec §7.3), plus ``authType`` when the
    APPSYNC_JS step would add it."""
    selection_list = list(selection)
    event: dict[str, Any] = {
        "arguments": dict(arguments),
        "identity": dict(identity) if identity is not None else None,
        "source": None,
        "request": {"headers": {k.lower(): v for k, v in (headers or {}).items()}, "domainName": None},
        "prev": None,
        "info": {
            "fieldName": field_name,
            "parentTypeName": parent_type,
            "selectionSetList": selection_list,
            "selectionSetGraphQL": "{\n" + "".join(f"  {s}\n" for s in selection_list if "/" not in s) + "}",
            "variables": dict(arguments),
        },
        "stash": {},
    }
    if auth_type is not None:
        event["authType"] = auth_type
    return event
