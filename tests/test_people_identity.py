"""Identifiers of insured people: ID numbers (GB 11643-1999), phones, the one masking rule, and the
encryption and keyed hashes that keep them unreadable at rest."""

from __future__ import annotations

import os
import stat
from datetime import date, timedelta

import pytest

from app import create_app
from app.people import crypto
from app.people.identity import (
    InvalidIdentifier,
    check_digit,
    make_id_number,
    mask,
    parse_id_number,
    parse_phone,
    split_phones,
)
from config import DevelopmentConfig, ProductionConfig

# Published, well-formed numbers: the standard's own example (born 1880) and the one every
# Chinese developer has met (born 1949-12-31, check digit X).
STANDARD_EXAMPLE = "440524188001010014"
FAMOUS_X = "11010519491231002X"


@pytest.mark.parametrize("number", [STANDARD_EXAMPLE, FAMOUS_X, "110101199003074477", "620102198503123716"])
def test_real_valid_id_numbers_pass_with_their_check_digit(number):
    """Valid numbers pass; the 17th digit gives the gender, digits 7–14 the birth date."""
    ident = parse_id_number(number)
    assert ident.value == number and check_digit(number[:17]) == number[17]
    assert ident.gender == ("male" if int(number[16]) % 2 else "female")
    assert ident.birth_date == date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def test_a_lower_case_x_spaces_and_full_width_digits_are_normalised():
    assert parse_id_number(" 11010519491231002x ").value == FAMOUS_X
    assert parse_id_number("１１０１０５１９４９１２３１００２Ｘ").value == FAMOUS_X


@pytest.mark.parametrize(("number", "problem"), [
    ("110105194912310021", "校验位错误"),  # one digit off: the check digit catches it
    ("110105194912310029", "校验位错误"),
    ("440524188001010015", "校验位错误"),
    ("110105194902310020", "出生日期不存在"),  # 31 February
    ("110105194913010020", "出生日期不存在"),
    ("991005194912310020", "省级行政区划"),
    ("110000194912310020", "县级行政区划"),
    ("11010519491231002", "应为 18 位"),
    ("1101051949123100212", "应为 18 位"),
    ("11010519491231002Y", "最后一位可以是 X"),
    ("", "为空"),
])
def test_wrong_id_numbers_are_refused_with_a_chinese_reason(number, problem):
    with pytest.raises(InvalidIdentifier, match=problem):
        parse_id_number(number)


def test_an_id_number_born_tomorrow_is_refused():
    tomorrow = date.today() + timedelta(days=1)
    with pytest.raises(InvalidIdentifier, match="晚于今天"):
        parse_id_number(make_id_number("620102", tomorrow, 11))


def test_old_fifteen_digit_numbers_become_eighteen_digits():
    """15-digit numbers (before 1999) are converted: year 19YY, check digit computed."""
    ident = parse_id_number("110105491231002")
    assert ident.value == FAMOUS_X and ident.converted and ident.gender == "female"
    with pytest.raises(InvalidIdentifier, match="不存在"):
        parse_id_number("110105490231002")


@pytest.mark.parametrize(("text", "value", "kind"), [
    ("13800000001", "13800000001", "mobile"),
    ("138 0000 0001", "13800000001", "mobile"),
    ("+86 138-0000-0001", "13800000001", "mobile"),
    ("8613800000001", "13800000001", "mobile"),
    ("0931-8123456", "0931-8123456", "landline"),
    ("09318123456", "0931-8123456", "landline"),
    ("(0931)8123456", "0931-8123456", "landline"),
    ("010-62345678", "010-62345678", "landline"),
    ("02187654321", "021-87654321", "landline"),
    ("0755 2345 6789", "0755-23456789", "landline"),
])
def test_phones_are_normalised(text, value, kind):
    phone = parse_phone(text)
    assert (phone.value, phone.kind) == (value, kind)


@pytest.mark.parametrize("text", ["12800000000", "1380000000", "138000000012", "0931-123", "0931-0123456", "8123456",
                                  "abc", "0931-81234567890"])
def test_bad_phones_are_refused(text):
    with pytest.raises(InvalidIdentifier):
        parse_phone(text)


def test_one_cell_may_hold_several_phones():
    assert split_phones("13800000001；0931-8123456、13900000002;") == ["13800000001", "0931-8123456", "13900000002"]


def test_one_masking_rule_for_every_identifier():
    assert mask("620102198503123716") == "6201**********3716"
    assert mask(FAMOUS_X) == "1101**********002X"
    assert mask("13812345678") == "138****5678"
    assert mask("0931-8123456") == "0931-***3456"
    assert mask("010-62345678") == "010-****5678"
    assert mask(None) == "" and mask("") == ""


def test_encryption_is_randomised_and_bound_to_its_key_and_purpose(app):
    """The same number encrypts differently each time; a hash is stable; another key reads nothing."""
    first, second = crypto.encrypt(FAMOUS_X, crypto.ID_NUMBER), crypto.encrypt(FAMOUS_X, crypto.ID_NUMBER)
    assert first != second and FAMOUS_X.encode() not in first
    assert crypto.decrypt(first, crypto.ID_NUMBER) == FAMOUS_X
    with pytest.raises(crypto.DataKeyError):
        crypto.decrypt(first, crypto.PHONE)  # a ciphertext cannot stand in for another kind of value
    assert crypto.lookup_hash("13800000001", crypto.PHONE) == crypto.lookup_hash("13800000001", crypto.PHONE)
    assert crypto.lookup_hash("13800000001", crypto.PHONE) != crypto.lookup_hash("13800000001", crypto.ID_NUMBER)
    other = crypto.DataKeys("another-key-of-at-least-thirty-two-characters")
    with pytest.raises(crypto.DataKeyError, match="HOTLINE_DATA_KEY"):
        crypto.decrypt(first, crypto.ID_NUMBER, other)
    assert crypto.lookup_hash("13800000001", crypto.PHONE, other) != crypto.lookup_hash("13800000001", crypto.PHONE)
    with pytest.raises(crypto.DataKeyError, match="至少需要 32 个字符"):
        crypto.DataKeys("short")


def test_data_key_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    """Embedded mode: without HOTLINE_DATA_KEY one is generated into the instance folder (0600)."""
    monkeypatch.delenv("HOTLINE_DATA_KEY", raising=False)

    class Local(DevelopmentConfig):
        INSTANCE_PATH = tmp_path
        SECRET_KEY = "local"
        DATA_KEY = None

    first = create_app(Local).config["DATA_KEY"]
    assert create_app(Local).config["DATA_KEY"] == first and len(first) == 64
    assert stat.S_IMODE(os.stat(tmp_path / "data_key").st_mode) == 0o600


def test_production_refuses_to_start_without_a_data_key(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.delenv("HOTLINE_DATA_KEY", raising=False)

    class Prod(ProductionConfig):
        INSTANCE_PATH = tmp_path

    with pytest.raises(RuntimeError, match="HOTLINE_DATA_KEY"):
        create_app(Prod)
