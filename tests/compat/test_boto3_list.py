"""boto3 against Strongbox: ListSecrets and BatchGetSecretValue (reference §3, §5.8)."""

from __future__ import annotations

import uuid

import pytest

from compat_helpers import aws_error

MAX_PAGES = 100


def list_names(sm, **kwargs) -> list[str]:
    """All names ListSecrets returns for these arguments, following NextToken (bounded)."""
    names: list[str] = []
    for page in _pages(sm, "SecretList", **kwargs):
        names += [s["Name"] for s in page["SecretList"]]
    return names


def _pages(sm, key, **kwargs):
    op = sm.list_secrets
    for _ in range(MAX_PAGES):
        page = op(**kwargs)
        yield page
        if not page.get("NextToken"):
            return
        kwargs["NextToken"] = page["NextToken"]
    pytest.fail("ListSecrets pagination did not terminate")


def name_filter(*values: str) -> dict:
    return {"Key": "name", "Values": list(values)}


@pytest.fixture(scope="module")
def fleet(sm):
    """Three secrets under one unique prefix, for read-only filter tests."""
    prefix = f"ls{uuid.uuid4().hex[:12]}"
    marker = f"zq{uuid.uuid4().hex[:10]}"
    specs = {
        "alpha": dict(Description="First test secret", Tags=[{"Key": "team", "Value": "red"}]),
        "beta": dict(Description="Second test secret",
                     Tags=[{"Key": "team", "Value": "blue"}, {"Key": "owner", "Value": "x"}]),
        "gamma": dict(Tags=[{"Key": "Owner", "Value": marker}]),
    }
    names = {}
    for short, extra in specs.items():
        name = f"{prefix}/{short}"
        sm.create_secret(Name=name, SecretString=short, **extra)
        names[short] = name
    return {"prefix": prefix, "marker": marker, **names}


def test_filter_name_prefix(sm, fleet):
    p = fleet["prefix"]
    assert sorted(list_names(sm, Filters=[name_filter(p + "/")])) == [
        fleet["alpha"], fleet["beta"], fleet["gamma"]]
    assert list_names(sm, Filters=[name_filter(p + "/al")]) == [fleet["alpha"]]
    # Prefix match is case-sensitive and is not a substring match.
    assert list_names(sm, Filters=[name_filter(p.upper() + "/")]) == []
    assert list_names(sm, Filters=[name_filter("alpha"), name_filter(p)]) == []


def test_filter_values_are_ored_filters_are_anded(sm, fleet):
    p = fleet["prefix"]
    got = list_names(sm, Filters=[name_filter(fleet["alpha"], fleet["gamma"])])
    assert sorted(got) == [fleet["alpha"], fleet["gamma"]]
    got = list_names(sm, Filters=[name_filter(p), {"Key": "tag-key", "Values": ["owner"]}])
    assert got == [fleet["beta"]]


def test_filter_negation(sm, fleet):
    p = fleet["prefix"]
    got = list_names(sm, Filters=[name_filter(p), name_filter("!" + fleet["alpha"])])
    assert sorted(got) == [fleet["beta"], fleet["gamma"]]
    got = list_names(sm, Filters=[name_filter(p), {"Key": "description", "Values": ["!first"]}])
    assert fleet["alpha"] not in got and fleet["beta"] in got


def test_filter_description(sm, fleet):
    p = fleet["prefix"]
    f = lambda *v: [name_filter(p), {"Key": "description", "Values": list(v)}]  # noqa: E731
    assert list_names(sm, Filters=f("first")) == [fleet["alpha"]]
    assert list_names(sm, Filters=f("SECOND")) == [fleet["beta"]]
    assert sorted(list_names(sm, Filters=f("test"))) == [fleet["alpha"], fleet["beta"]]
    # Each word of the value must prefix a word of the description.
    assert sorted(list_names(sm, Filters=f("te sec"))) == [fleet["alpha"], fleet["beta"]]
    assert list_names(sm, Filters=f("ecret")) == []
    # Two description filters are ANDed.
    both = [name_filter(p), {"Key": "description", "Values": ["first"]},
            {"Key": "description", "Values": ["second"]}]
    assert list_names(sm, Filters=both) == []


def test_filter_tag_key_and_value(sm, fleet):
    p = fleet["prefix"]
    tk = lambda *v: [name_filter(p), {"Key": "tag-key", "Values": list(v)}]  # noqa: E731
    tv = lambda *v: [name_filter(p), {"Key": "tag-value", "Values": list(v)}]  # noqa: E731
    assert sorted(list_names(sm, Filters=tk("team"))) == [fleet["alpha"], fleet["beta"]]
    assert list_names(sm, Filters=tk("owner")) == [fleet["beta"]]  # case-sensitive
    assert list_names(sm, Filters=tk("Own")) == [fleet["gamma"]]  # prefix
    assert list_names(sm, Filters=tv("re")) == [fleet["alpha"]]
    assert list_names(sm, Filters=tv("blue")) == [fleet["beta"]]
    assert list_names(sm, Filters=tv(fleet["marker"])) == [fleet["gamma"]]
    assert list_names(sm, Filters=tv("RED")) == []


def test_filter_all(sm, fleet):
    p = fleet["prefix"]
    fa = lambda *v: [name_filter(p), {"Key": "all", "Values": list(v)}]  # noqa: E731
    # Tag value, case-insensitive, word prefix.
    assert list_names(sm, Filters=fa(fleet["marker"].upper())) == [fleet["gamma"]]
    assert list_names(sm, Filters=fa(fleet["marker"][:8])) == [fleet["gamma"]]
    # A word of the name.
    assert list_names(sm, Filters=fa("alpha")) == [fleet["alpha"]]
    # Description and tag key.
    assert list_names(sm, Filters=fa("second")) == [fleet["beta"]]
    assert sorted(list_names(sm, Filters=fa("OWNER"))) == [fleet["beta"], fleet["gamma"]]
    # Alone, "all" finds the secret among everything in the account.
    assert list_names(sm, Filters=[{"Key": "all", "Values": [fleet["marker"]]}]) == [fleet["gamma"]]


def test_filter_all_splits_words_at_case_changes(sm):
    """`all` splits names into words at separators and at lower->UPPER changes (reference §5.8).

    Only `/` separates here: a name mixing two separators is reportedly not split."""
    p = f"lsall{uuid.uuid4().hex}"
    beta, secret = f"{p}/AppBeta/x", f"{p}/SecretOne"
    for n in (beta, secret):
        sm.create_secret(Name=n, SecretString="x")
    fa = lambda v: [name_filter(p), {"Key": "all", "Values": [v]}]  # noqa: E731
    assert list_names(sm, Filters=fa("Beta")) == [beta]
    assert list_names(sm, Filters=fa("beta")) == [beta]
    assert list_names(sm, Filters=fa("sec")) == [secret]
    assert list_names(sm, Filters=fa("one")) == [secret]
    assert list_names(sm, Filters=fa("ret")) == []
    assert list_names(sm, Filters=fa("ppBeta")) == []


def test_list_entry_fields(sm, fleet):
    entries = sm.list_secrets(Filters=[name_filter(fleet["alpha"])])["SecretList"]
    assert len(entries) == 1
    entry = entries[0]
    assert {"ARN", "Name", "CreatedDate", "LastChangedDate"} <= entry.keys()
    assert entry["Description"] == "First test secret"
    assert entry["Tags"] == [{"Key": "team", "Value": "red"}]
    assert "KmsKeyId" not in entry
    # ListSecrets names the version map SecretVersionsToStages, not VersionIdsToStages.
    assert "VersionIdsToStages" not in entry
    assert list(entry["SecretVersionsToStages"].values()) == [["AWSCURRENT"]]
    desc = sm.describe_secret(SecretId=fleet["alpha"])
    assert entry["ARN"] == desc["ARN"]
    assert entry["SecretVersionsToStages"] == desc["VersionIdsToStages"]


def test_include_planned_deletion(sm, new_name):
    p = new_name("lsdel")
    names = [f"{p}/keep", f"{p}/drop"]
    for n in names:
        sm.create_secret(Name=n, SecretString="x")
    sm.delete_secret(SecretId=names[1], RecoveryWindowInDays=7)
    assert list_names(sm, Filters=[name_filter(p)]) == [names[0]]
    full = sm.list_secrets(Filters=[name_filter(p)], IncludePlannedDeletion=True)["SecretList"]
    by_name = {s["Name"]: s for s in full}
    assert set(by_name) == set(names)
    assert "DeletedDate" in by_name[names[1]]
    assert "DeletedDate" not in by_name[names[0]]
    sm.restore_secret(SecretId=names[1])
    assert sorted(list_names(sm, Filters=[name_filter(p)])) == sorted(names)


def test_sort_order_by_created_date(sm, new_name):
    p = new_name("lssort")
    names = [f"{p}/{i}" for i in ("c", "a", "b")]
    for n in names:
        sm.create_secret(Name=n, SecretString="x")
    asc = sm.list_secrets(Filters=[name_filter(p)], SortOrder="asc")["SecretList"]
    desc = sm.list_secrets(Filters=[name_filter(p)], SortOrder="desc")["SecretList"]
    asc_dates = [s["CreatedDate"] for s in asc]
    desc_dates = [s["CreatedDate"] for s in desc]
    assert asc_dates == sorted(asc_dates)
    assert desc_dates == sorted(desc_dates, reverse=True)
    if len(set(asc_dates)) == len(names):  # no ties: the order is fully determined
        assert [s["Name"] for s in asc] == names
        assert [s["Name"] for s in desc] == names[::-1]
    default = [s["Name"] for s in sm.list_secrets(Filters=[name_filter(p)])["SecretList"]]
    assert sorted(default) == sorted(names)


def test_sort_by_name(sm, new_name):
    p = new_name("lssortby")
    names = [f"{p}/{i}" for i in ("c", "a", "b")]
    for n in names:
        sm.create_secret(Name=n, SecretString="x")
    got = sm.list_secrets(Filters=[name_filter(p)], SortBy="name", SortOrder="asc")["SecretList"]
    assert [s["Name"] for s in got] == sorted(names)
    got = sm.list_secrets(Filters=[name_filter(p)], SortBy="name", SortOrder="desc")["SecretList"]
    assert [s["Name"] for s in got] == sorted(names, reverse=True)


def test_pagination_with_paginator(sm, new_name):
    p = new_name("lspage")
    names = [f"{p}/{i}" for i in range(5)]
    for n in names:
        sm.create_secret(Name=n, SecretString="x")
    paginator = sm.get_paginator("list_secrets")
    pages = list(paginator.paginate(Filters=[name_filter(p)],
                                    PaginationConfig={"PageSize": 2, "MaxItems": 50}))
    assert len(pages) <= MAX_PAGES
    seen = []
    for page in pages:
        assert len(page["SecretList"]) <= 2
        seen += [s["Name"] for s in page["SecretList"]]
    assert len(seen) == len(set(seen)), "pagination returned a secret twice"
    assert sorted(seen) == sorted(names)
    assert len([pg for pg in pages if pg["SecretList"]]) >= 3


def test_pagination_manual_next_token(sm, new_name):
    p = new_name("lsnext")
    names = [f"{p}/{i}" for i in range(3)]
    for n in names:
        sm.create_secret(Name=n, SecretString="x")
    first = sm.list_secrets(Filters=[name_filter(p)], MaxResults=1)
    assert len(first["SecretList"]) <= 1
    assert first.get("NextToken")
    assert sorted(list_names(sm, Filters=[name_filter(p)], MaxResults=1)) == sorted(names)


def test_list_invalid_parameters(sm):
    with aws_error("ValidationException"):
        sm.list_secrets(MaxResults=101)
    with aws_error(("ValidationException", "InvalidParameterException")):
        sm.list_secrets(Filters=[{"Key": "bogus", "Values": ["x"]}])
    with aws_error(("ValidationException", "InvalidParameterException")):
        sm.list_secrets(SortOrder="sideways")
    with aws_error(("InvalidNextTokenException", "InvalidParameterException",
                    "ValidationException")):
        sm.list_secrets(NextToken="this-is-not-a-token")


# ------------------------------------------------------------------------------------------
# BatchGetSecretValue
# ------------------------------------------------------------------------------------------


def test_batch_get_by_id_list_with_missing(sm, new_name):
    a, b, missing = new_name("ba"), new_name("bb"), new_name("missing")
    ra = sm.create_secret(Name=a, SecretString="A")
    rb = sm.create_secret(Name=b, SecretBinary=b"B")
    resp = sm.batch_get_secret_value(SecretIdList=[a, rb["ARN"], missing])
    values = {v["Name"]: v for v in resp["SecretValues"]}
    assert set(values) == {a, b}
    assert values[a]["SecretString"] == "A"
    assert values[a]["ARN"] == ra["ARN"]
    assert values[a]["VersionId"] == ra["VersionId"]
    assert values[a]["VersionStages"] == ["AWSCURRENT"]
    assert "CreatedDate" in values[a]
    assert values[b]["SecretBinary"] == b"B"
    assert len(resp["Errors"]) == 1
    err = resp["Errors"][0]
    assert err["SecretId"] == missing
    assert err["ErrorCode"] == "ResourceNotFoundException"
    assert err.get("Message")


def test_batch_get_deleted_secret_reported_in_errors(sm, new_name):
    a, gone = new_name("ok"), new_name("gone")
    sm.create_secret(Name=a, SecretString="A")
    sm.create_secret(Name=gone, SecretString="G")
    sm.delete_secret(SecretId=gone, RecoveryWindowInDays=7)
    resp = sm.batch_get_secret_value(SecretIdList=[a, gone])
    assert [v["Name"] for v in resp["SecretValues"]] == [a]
    assert [e["SecretId"] for e in resp["Errors"]] == [gone]


def test_batch_get_by_filters(sm, new_name):
    p = new_name("bf")
    names = [f"{p}/{i}" for i in range(3)]
    for i, n in enumerate(names):
        sm.create_secret(Name=n, SecretString=f"value-{i}")
    got: dict[str, str] = {}
    kwargs = {"Filters": [name_filter(p)], "MaxResults": 2}
    for _ in range(MAX_PAGES):
        resp = sm.batch_get_secret_value(**kwargs)
        assert len(resp["SecretValues"]) <= 2
        for v in resp["SecretValues"]:
            assert v["Name"] not in got
            got[v["Name"]] = v["SecretString"]
        if not resp.get("NextToken"):
            break
        kwargs["NextToken"] = resp["NextToken"]
    else:
        pytest.fail("BatchGetSecretValue pagination did not terminate")
    assert got == {n: f"value-{i}" for i, n in enumerate(names)}


def test_batch_get_requires_exactly_one_selector(sm, new_name):
    name = new_name()
    sm.create_secret(Name=name, SecretString="x")
    with aws_error("InvalidParameterException"):
        sm.batch_get_secret_value(SecretIdList=[name], Filters=[name_filter(name)])
    with aws_error("InvalidParameterException"):
        sm.batch_get_secret_value()
    with aws_error("InvalidParameterException"):
        sm.batch_get_secret_value(SecretIdList=[name], MaxResults=5)


def test_batch_get_too_many_ids(sm, new_name):
    with aws_error("ValidationException"):
        sm.batch_get_secret_value(SecretIdList=[new_name() for _ in range(21)])
