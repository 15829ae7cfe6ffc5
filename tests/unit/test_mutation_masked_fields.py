"""Which fields a mutation result (what every subscriber receives) returns as null: a decision
table over the schema alone (issue 16.6, spec §2.4).

Amplify's rule: a field is nulled in mutation results when some rule that reads the model (its
own rules or a field's) admits callers the field's rules do not. Each row: the model's rules,
the field's rules (None: the field follows the model's), whether the field is masked.
"""

from __future__ import annotations

import pytest

from modelauth.rules import Field, Model, Rule, SchemaError, allow, mutation_masked_fields

READ = ["read"]
EDITOR = allow.all_of(allow.owner(), allow.group("Editors"))

TABLE: dict[str, tuple[list[Rule], list[Rule] | None, bool]] = {
    # the same readers: every subscriber may read the field, so it is returned
    "field-rule-equal-to-the-model-rule": ([allow.owner()], [allow.owner()], False),
    "all-of-field-rule-matching-the-model-rule": ([EDITOR], [EDITOR], False),
    "field-readers-a-superset-of-the-model-readers": (
        [allow.owner()],
        [allow.owner(), allow.group("A")],
        False,
    ),
    "static-groups-split-per-group": (
        [allow.groups(["A", "B"])],
        [allow.group("A"), allow.group("B")],
        False,
    ),
    "a-model-rule-without-read-is-no-reader": (
        [allow.owner(), allow.group("Admin").to(["create", "update"])],
        [allow.owner()],
        False,
    ),
    "signed-in-field-rule-admits-every-user-pool-reader": (
        [allow.owner(), allow.group("Admin")],
        [allow.authenticated()],
        False,
    ),
    "oidc-signed-in-field-rule-admits-every-oidc-reader": (
        [allow.owner("oidc"), allow.groups(["Moderator"], "oidc")],
        [allow.authenticated("oidc")],
        False,
    ),
    "custom-field-rule-admits-every-lambda-authorized-reader": (
        [allow.custom().to(READ), allow.owner("function")],
        [allow.custom()],
        False,
    ),
    "an-all-of-reader-is-admitted-by-one-of-its-members": ([EDITOR], [allow.owner()], False),
    "a-model-rule-reading-with-get-only-is-covered-by-a-field-read": (
        [allow.owner(), allow.group("Audit").to(["get"])],
        [allow.owner(), allow.group("Audit")],
        False,
    ),
    # some reader of the model may not read the field: it is nulled
    "profile-ssn-hidden-from-signed-in-readers": (
        [allow.authenticated().to(READ), allow.owner()],
        [allow.owner()],
        True,
    ),
    "group-reader-without-the-field-rule": ([allow.owner(), allow.group("Admin")], [allow.owner()], True),
    "one-static-group-missing": ([allow.groups(["A", "B"])], [allow.group("A")], True),
    "api-key-reader-not-a-user-pool-caller": (
        [allow.owner(), allow.public_api_key().to(READ)],
        [allow.authenticated()],
        True,
    ),
    "user-pool-signed-in-rule-does-not-admit-oidc-readers": (
        [allow.owner("oidc")],
        [allow.authenticated()],
        True,
    ),
    "all-of-field-rule-narrower-than-the-model-rule": ([allow.owner()], [EDITOR], True),
    "owner-with-another-identity-claim": ([allow.owner()], [allow.owner().identity_claim("sub")], True),
    "owner-of-another-field": ([allow.owner()], [allow.owner_defined_in("author")], True),
    "identity-pool-signed-in-rule-depends-on-the-role": (
        [allow.owner("identityPool")],
        [allow.authenticated("identityPool")],
        True,
    ),
    "all-of-field-rule-with-a-member-that-cannot-read": (
        [EDITOR],
        [allow.all_of(allow.owner().to(["update"]), allow.group("Editors"))],
        True,
    ),
}


@pytest.mark.parametrize(("model_rules", "field_rules", "masked"), TABLE.values(), ids=TABLE.keys())
def test_a_field_is_masked_in_mutation_results_exactly_when_some_model_reader_may_not_read_it(
    model_rules: list[Rule], field_rules: list[Rule] | None, masked: bool
) -> None:
    model = Model("Doc", fields=[Field("secret", rules=field_rules)], rules=model_rules)
    assert ("secret" in mutation_masked_fields(model)) is masked
    assert model.mutation_masked_fields == mutation_masked_fields(model)  # decided once, at definition


def test_a_field_only_reader_masks_the_fields_it_cannot_read() -> None:
    """A role present only in a field rule receives mutation results too (it may subscribe):
    the fields without rules, owner included, are masked; so is its own field, which the model's
    readers may not read."""
    model = Model(
        "Doc",
        fields=[Field("content"), Field("summary", rules=[allow.public_api_key()])],
        rules=[allow.owner()],
    )
    assert model.mutation_masked_fields == {"content", "owner", "summary"}


def test_a_reader_that_only_gets_on_the_model_masks_a_field_it_reads_elsewhere() -> None:
    """Group A listens through the summary rule; the model lets it only get, so a subscriber of
    group A may not read ``content`` in a mutation result."""
    model = Model(
        "Doc",
        fields=[Field("content"), Field("summary", rules=[allow.owner(), allow.group("A")])],
        rules=[allow.owner(), allow.group("A").to(["get"])],
    )
    assert model.mutation_masked_fields == {"content", "owner"}


def test_models_without_field_rules_mask_nothing() -> None:
    model = Model("Todo", fields=[Field("content")], rules=[allow.owner(), allow.public_api_key().to(READ)])
    assert model.mutation_masked_fields == frozenset()


def test_a_required_field_every_reader_may_read_builds() -> None:
    model = Model(
        "Doc", fields=[Field("title", required=True, rules=[allow.authenticated()])], rules=[allow.owner()]
    )
    assert "title" not in model.mutation_masked_fields


def test_a_required_masked_field_is_a_build_error() -> None:
    with pytest.raises(SchemaError, match=r'required fields \["title"\]'):
        Model(
            "Doc",
            fields=[Field("title", required=True, rules=[allow.owner()])],
            rules=[allow.authenticated()],
        )
