"""boto3 against Strongbox: GetRandomPassword (reference §3, §4)."""

from __future__ import annotations

import string

import pytest
from botocore.exceptions import ParamValidationError

from compat_helpers import aws_error

LOWER = set(string.ascii_lowercase)
UPPER = set(string.ascii_uppercase)
DIGITS = set(string.digits)
PUNCT = set(string.punctuation)  # the 32 ASCII punctuation characters AWS uses
DEFAULT_ALPHABET = LOWER | UPPER | DIGITS | PUNCT


def pw(sm, **kwargs) -> str:
    resp = sm.get_random_password(**kwargs)
    assert set(resp) == {"RandomPassword", "ResponseMetadata"}
    return resp["RandomPassword"]


def test_default_password(sm):
    value = pw(sm)
    assert len(value) == 32
    assert set(value) <= DEFAULT_ALPHABET
    assert " " not in value
    # RequireEachIncludedType defaults to true.
    for cls in (LOWER, UPPER, DIGITS, PUNCT):
        assert set(value) & cls, f"default password lacks a character class: {value!r}"


def test_passwords_are_random(sm):
    seen = {pw(sm) for _ in range(5)}
    assert len(seen) == 5


@pytest.mark.parametrize("length", [4, 16, 100, 4096])
def test_length(sm, length):
    value = pw(sm, PasswordLength=length)
    assert len(value) == length
    for cls in (LOWER, UPPER, DIGITS, PUNCT):
        assert set(value) & cls


def test_length_one_without_required_types(sm):
    value = pw(sm, PasswordLength=1, RequireEachIncludedType=False)
    assert len(value) == 1 and value in DEFAULT_ALPHABET


def test_too_short_for_required_types(sm):
    with aws_error("InvalidParameterException"):
        sm.get_random_password(PasswordLength=3)


@pytest.mark.parametrize(
    "flag, removed",
    [
        ("ExcludeNumbers", DIGITS),
        ("ExcludePunctuation", PUNCT),
        ("ExcludeUppercase", UPPER),
        ("ExcludeLowercase", LOWER),
    ],
)
def test_exclude_flags(sm, flag, removed):
    value = pw(sm, PasswordLength=512, **{flag: True})
    assert len(value) == 512
    assert not set(value) & removed
    for cls in (LOWER, UPPER, DIGITS, PUNCT):
        if cls is not removed:
            assert set(value) & cls


def test_only_digits(sm):
    value = pw(sm, PasswordLength=64, ExcludePunctuation=True, ExcludeUppercase=True,
               ExcludeLowercase=True)
    assert len(value) == 64 and value.isdigit()


def test_exclude_characters(sm):
    # Leave at least one character of every class, so RequireEachIncludedType can be met.
    excluded = "abcdefghijklmnopqrstuvwxy012345678ABCDEFGHIJ\"'\\/@`"
    value = pw(sm, PasswordLength=1024, ExcludeCharacters=excluded)
    assert len(value) == 1024
    assert not set(value) & set(excluded)
    assert set(value) <= DEFAULT_ALPHABET
    for cls in (LOWER, UPPER, DIGITS, PUNCT):
        assert set(value) & cls


def test_include_space(sm):
    value = pw(sm, PasswordLength=4096, IncludeSpace=True)
    assert " " in value  # P(no space in 4096 draws from 95 chars) is about e^-43
    assert set(value) <= DEFAULT_ALPHABET | {" "}
    assert " " not in pw(sm, PasswordLength=4096)


def test_require_each_included_type_false(sm):
    value = pw(sm, PasswordLength=200, RequireEachIncludedType=False, ExcludePunctuation=True)
    assert len(value) == 200 and value.isalnum()


def test_length_over_max(sm):
    # botocore does not check `max`; the server must (Coral ValidationException).
    with aws_error("ValidationException",
                   "1 validation error detected: Value '4097' at 'passwordLength' failed to "
                   "satisfy constraint: Member must have value less than or equal to 4096"):
        sm.get_random_password(PasswordLength=4097)


def test_length_zero_rejected_by_botocore(sm):
    with pytest.raises(ParamValidationError):
        sm.get_random_password(PasswordLength=0)
