"""Identifiers of insured people: the ID number (身份证号, GB 11643-1999), phone numbers, and the one
masking rule every page, search result, export and JSON answer uses.

Old 15-digit ID numbers (issued before 1999) are converted to 18 digits — year 19YY, check digit
computed — as the public-security upgrade did, so one person never exists twice under both forms.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# Province-level codes (GB/T 2260) plus 81/82/83, the residence permits of Hong Kong, Macao and Taiwan.
PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43",
    "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
})
EARLIEST_BIRTH = date(1870, 1, 1)
_SEPARATORS = re.compile(r"[;；、,，/\n]+")
_PHONE_NOISE = re.compile(r"[\s\-－—()（）]")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


class InvalidIdentifier(ValueError):
    """The value is not a valid identifier; the message says why, in Chinese."""


@dataclass(frozen=True)
class IdNumber:
    value: str  # 18 characters, upper-case X
    birth_date: date
    gender: str  # male / female
    converted: bool = False  # given as an old 15-digit number


@dataclass(frozen=True)
class Phone:
    value: str  # 13800000001, or 0931-8123456
    kind: str  # mobile / landline


def _clean(text: str) -> str:
    # NFKC turns full-width digits and Ｘ into ASCII; spaces inside a pasted number are dropped.
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).upper()


def check_digit(first17: str) -> str:
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def _birth(digits: str) -> date:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise InvalidIdentifier("身份证号中的出生日期不存在") from None
    if born > date.today():
        raise InvalidIdentifier("身份证号中的出生日期晚于今天")
    if born < EARLIEST_BIRTH:
        raise InvalidIdentifier("身份证号中的出生日期早于 1870 年")
    return born


def _region(value: str) -> None:
    if value[:2] not in PROVINCES:
        raise InvalidIdentifier("身份证号前两位不是有效的省级行政区划代码")
    if value[2:6] == "0000" and value[:2] not in ("81", "82", "83"):
        raise InvalidIdentifier("身份证号前六位不是有效的县级行政区划代码")


def parse_id_number(text: str) -> IdNumber:
    """Validate and normalise an ID number; 15-digit numbers are converted to 18 digits."""
    value = _clean(text)
    if not value:
        raise InvalidIdentifier("身份证号为空")
    converted = False
    if len(value) == 15:
        if not value.isdigit():
            raise InvalidIdentifier("15 位身份证号只能由数字组成")
        first17 = value[:6] + "19" + value[6:]
        value, converted = first17 + check_digit(first17), True
    elif len(value) != 18:
        raise InvalidIdentifier(f"身份证号应为 18 位，实际为 {len(value)} 位")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidIdentifier("身份证号只能由数字组成，最后一位可以是 X")
    _region(value)
    born = _birth(value[6:14])
    if check_digit(value[:17]) != value[17]:
        raise InvalidIdentifier("身份证号校验位错误（可能有数字录入错误）")
    return IdNumber(value, born, "male" if int(value[16]) % 2 else "female", converted)


def make_id_number(region: str, born: date, sequence: int) -> str:
    """A well-formed ID number (demo data, tests, benchmarks): odd sequence numbers are men."""
    first17 = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_digit(first17)


def parse_phone(text: str) -> Phone:
    """A mainland mobile (1[3-9] + 9 digits) or a landline with its area code, normalised."""
    raw = _clean(text)
    digits = _PHONE_NOISE.sub("", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if MOBILE_RE.match(digits):
        return Phone(digits, "mobile")
    if not digits.isdigit():
        raise InvalidIdentifier("电话号码只能包含数字（固定电话的区号后可加连字符）")
    if not digits.startswith("0"):
        raise InvalidIdentifier("电话号码格式不正确：手机为 11 位（1 开头），固定电话须带区号（如 0931-8123456）")
    # Three-digit area codes are Beijing (010) and 02x; every other area code has four digits.
    area = digits[:3] if digits.startswith(("010", "02")) else digits[:4]
    local = digits[len(area):]
    value = f"{area}-{local}"
    if not LANDLINE_RE.match(value) or local[0] in "01":
        raise InvalidIdentifier("固定电话格式不正确：区号后应为 7–8 位号码（如 0931-8123456）")
    return Phone(value, "landline")


def split_phones(text: str) -> list[str]:
    """Several numbers in one cell, separated by ; 、 , / or line breaks."""
    return [part.strip() for part in _SEPARATORS.split(str(text or "")) if part.strip()]


def mask_id_number(value: str) -> str:
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)


def mask_phone(value: str) -> str:
    if "-" in value:  # landline: area code and the last four digits
        area, local = value.split("-", 1)
        return f"{area}-{'*' * (len(local) - 4)}{local[-4:]}"
    if len(value) == 11:
        return value[:3] + "****" + value[-4:]
    return "*" * max(len(value) - 4, 0) + value[-4:]


def mask(value: str | None) -> str:
    """The one masking rule: ID 6201**********1234, mobile 138****5678, landline 0931-***3456."""
    if not value:
        return ""
    if len(value) in (15, 18) and value[:6].isdigit():
        return mask_id_number(value)
    return mask_phone(value)
