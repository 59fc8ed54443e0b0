"""Mail-merge lists: select customers, build salutations and address lines, respect consent.

Pure pandas: the caller passes the customers / follow-ups frames (book conventions), the grade of
each customer and today's date. Writing the list (CSV, .xlsx, Export sheet) happens elsewhere.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from ..errors import XlcrmError
from ..schema import DEAL_STATUSES, GRADES, match_choice, normalize_name, simplified

# --------------------------------------------------------------------------- salutations

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 澹台 端木 轩辕 独孤 南宫 西门 百里 "
    "呼延 万俟 申屠 钟离 闻人 赫连 太史 司空 濮阳 公冶 单于 宗政 淳于 仲孙 歐陽 諸葛 司馬 長孫 鍾離".split()
)
# Surnames read differently from the same character in ordinary words.
_SURNAME_PINYIN = {
    "单": "Shan", "曾": "Zeng", "解": "Xie", "仇": "Qiu", "朴": "Piao", "查": "Zha", "区": "Ou", "盖": "Ge",
    "覃": "Qin", "乐": "Yue", "秘": "Bi", "缪": "Miao", "翟": "Zhai", "种": "Chong", "召": "Shao", "繁": "Po",
    "尉迟": "Yuchi", "万俟": "Moqi", "长孙": "Zhangsun", "单于": "Chanyu", "重": "Chong", "沈": "Shen",
}
# Job titles as they are used in address: the contact's title (contains) → what follows the surname.
# More specific first (总经理 before 经理).
_ZH_TITLES: tuple[tuple[str, str], ...] = (
    ("董事长", "董"), ("副总经理", "总"), ("总经理", "总"), ("总裁", "总"), ("副总", "总"), ("CEO", "总"),
    ("总监", "总监"), ("经理", "经理"), ("主管", "主管"), ("主任", "主任"), ("厂长", "厂长"), ("部长", "部长"),
    ("科长", "科长"), ("处长", "处长"), ("局长", "局长"), ("院长", "院长"), ("校长", "校长"), ("所长", "所长"),
    ("店长", "店长"), ("老板", "老板"), ("教授", "教授"), ("博士", "博士"), ("医生", "医生"), ("老师", "老师"),
    ("律师", "律师"), ("会计", "会计"), ("工程师", "工"), ("秘书", "秘书"),
    ("先生", "先生"), ("女士", "女士"), ("小姐", "女士"), ("太太", "太太"),
)
# Honorifics: normalised spelling → (English form, Chinese form).
_HONORIFICS = {
    "mr": ("Mr.", "先生"), "mister": ("Mr.", "先生"), "先生": ("Mr.", "先生"),
    "ms": ("Ms.", "女士"), "miss": ("Ms.", "女士"), "mrs": ("Mrs.", "太太"), "女士": ("Ms.", "女士"),
    "小姐": ("Ms.", "女士"), "太太": ("Mrs.", "太太"), "夫人": ("Mrs.", "夫人"),
    "dr": ("Dr.", "博士"), "doctor": ("Dr.", "博士"), "博士": ("Dr.", "博士"),
    "prof": ("Prof.", "教授"), "professor": ("Prof.", "教授"), "教授": ("Prof.", "教授"),
}
_NAME_SUFFIXES = tuple(sorted({s for _, s in _ZH_TITLES} | {"先生", "女士", "小姐", "总"}, key=len, reverse=True))


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def is_cjk_name(name: str) -> bool:
    return bool(_CJK.search(name))


def split_chinese_name(name: str) -> tuple[str, str]:
    """(surname, given name) of a Chinese name; compound surnames such as 欧阳 are kept whole."""
    name = re.sub(r"\s+", "", name)
    if name[:2] in COMPOUND_SURNAMES and len(name) > 2:
        return name[:2], name[2:]
    return name[:1], name[1:]


def surname_pinyin(surname: str) -> str:
    """A Chinese surname in pinyin, with the surname readings of 单, 曾, 解 … ("Shan", not "Dan")."""
    if surname in _SURNAME_PINYIN:
        return _SURNAME_PINYIN[surname]
    from pypinyin import Style, lazy_pinyin

    return "".join(_SURNAME_PINYIN.get(ch) or lazy_pinyin(ch, style=Style.NORMAL)[0] for ch in surname).capitalize()


def _honorific(title: str) -> tuple[str, str] | None:
    key = title.strip().rstrip(".").casefold()
    return _HONORIFICS.get(key)


def _zh_title_suffix(title: str) -> str | None:
    t = simplified(title)
    for needle, suffix in _ZH_TITLES:
        if needle.casefold() in t.casefold():
            return suffix
    return None


def _latin_surname(name: str) -> tuple[str | None, str]:
    """(honorific found in the name, surname) of a Latin-script name: 'Smith, John' or 'Mr John Smith'."""
    if "," in name:
        name = name.split(",")[0].strip() + " "  # "Smith, John" → "Smith"
    tokens = name.split()
    honor = None
    if tokens and _honorific(tokens[0]):
        honor = _honorific(tokens[0])[0]
        tokens = tokens[1:]
    return honor, (tokens[-1] if tokens else "")


def salutation(contact: object, title: object = None, lang: str = "zh-CN") -> str:
    """How to address a contact in a letter: 张经理, 王女士, 欧阳总, Mr. Smith, Dr. Lee.

    Chinese names get surname + the title as used in address (总经理 → 张总, 工程师 → 张工);
    Latin-script names get an honorific + surname when one is known (title Mr/Ms/先生/女士 …);
    a Chinese name in an English letter gets "Mr. Zhang" when the honorific is known.
    Without enough to go on, the name as written (never a guessed gender).
    """
    name, title_text = _text(contact), _text(title)
    if not name:
        return "客户" if lang != "en" else "Customer"
    honor = _honorific(title_text) if title_text else None
    if is_cjk_name(name):
        compact = re.sub(r"\s+", "", name)
        if not title_text and len(compact) <= 5 and compact.endswith(_NAME_SUFFIXES):
            return compact  # typed as "王女士" / "张总" already
        surname, _ = split_chinese_name(compact)
        if lang == "en":
            return f"{honor[0]} {surname_pinyin(surname)}" if honor else compact
        suffix = honor[1] if honor else (_zh_title_suffix(title_text) if title_text else None)
        return f"{surname}{suffix}" if suffix else compact
    found, surname = _latin_surname(name)
    honor_en = found or (honor[0] if honor else None)
    if honor_en and surname:
        return f"{honor_en} {surname}"
    return " ".join(name.split())


def greeting(salutation_text: str, lang: str) -> str:
    """The opening line of a letter: 尊敬的张经理： / Dear Mr. Smith,"""
    return f"Dear {salutation_text}," if lang == "en" else f"尊敬的{salutation_text}："


# --------------------------------------------------------------------------- address lines

_CHINA = {"中国", "中国大陆", "中华人民共和国", "china", "cn", "prc", "中國"}


def address_lines(address: object, city: object, province: object, country: object) -> tuple[str, str, str]:
    """Three envelope lines. Chinese addresses run province → city → street on one line (a part
    the street already names is not repeated); Latin ones run street / city, province / country."""
    addr, cty, prov, ctry = (_text(v) for v in (address, city, province, country))
    foreign = ctry and ctry.casefold() not in _CHINA
    if is_cjk_name(addr) or (not addr and is_cjk_name(cty + prov)):
        head = ""
        for part in (prov, cty):
            stem = re.sub(r"(省|市|自治区|特别行政区)$", "", part)
            if part and stem not in addr and stem not in head:
                head += part
        return head + addr, (ctry if foreign else ""), ""
    second = ", ".join(p for p in (cty, prov) if p)
    return addr, second, ctry


# --------------------------------------------------------------------------- filters

_SPLIT = re.compile(r"[,，;；、/|\s]+")


def split_list(value: object) -> list[str]:
    """'A,B' / 'A，B' / ['A', 'B'] → ['A', 'B']."""
    if value is None:
        return []
    items: Iterable[object] = value if isinstance(value, (list, tuple, set)) else [value]
    out: list[str] = []
    for item in items:
        out.extend(p for p in _SPLIT.split(_text(item)) if p)
    return out


HAS_FIELDS = ("email", "address", "mobile")


@dataclass
class ExportFilter:
    """What a mail-merge list selects. Empty lists mean "no filter on this field"."""

    grades: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    provinces: list[str] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    deal_statuses: list[str] = field(default_factory=list)
    has: list[str] = field(default_factory=list)  # subset of HAS_FIELDS
    birthday_month: int | None = None
    not_contacted_days: int | None = None
    dedupe_address: bool = False

    @classmethod
    def from_options(cls, options: dict) -> ExportFilter:
        """Build from CLI / button options (comma lists in either language), validating codes."""
        grades = [_choice_code(GRADES, g, "grade") for g in split_list(options.get("grade"))]
        statuses = [_choice_code(DEAL_STATUSES, s, "deal_status") for s in split_list(options.get("deal_status"))]
        has = []
        for h in split_list(options.get("has")):
            key = {"邮箱": "email", "mail": "email", "e-mail": "email", "地址": "address", "手机": "mobile",
                   "phone": "mobile", "mobile": "mobile"}.get(h.casefold(), h.casefold())
            if key not in HAS_FIELDS:
                raise XlcrmError("“--has”只接受 email、address、mobile，收到“{v}”。",
                                 "--has accepts email, address or mobile, got '{v}'.", v=h)
            has.append(key)
        month = options.get("birthday_month")
        if month is not None and not 1 <= int(month) <= 12:
            raise XlcrmError("生日月份应在 1 到 12 之间，收到 {v}。", "Birthday month must be 1–12, got {v}.", v=month)
        days = options.get("not_contacted_days")
        if days is not None and int(days) < 0:
            raise XlcrmError("天数不能为负数：{v}。", "Days cannot be negative: {v}.", v=days)
        return cls(
            grades=grades,
            owners=split_list(options.get("owner")),
            provinces=split_list(options.get("province")),
            cities=split_list(options.get("city")),
            tags=split_list(options.get("tags") or options.get("tag")),
            deal_statuses=statuses,
            has=has,
            birthday_month=int(month) if month is not None else None,
            not_contacted_days=int(days) if days is not None else None,
            dedupe_address=bool(options.get("dedupe_address")),
        )


def _choice_code(choices, value: str, what: str) -> str:
    code = match_choice(choices, value)
    if code is None:
        known = "、".join(c.zh for c in choices)
        raise XlcrmError("无法识别的{what}：“{v}”（可用：{known}）。", "Unknown {what}: '{v}' (known: {known}).",
                         what=what, v=value, known=known)
    return code


def _norm(value: object) -> str:
    return normalize_name(simplified(_text(value)))


def _place_mask(series: pd.Series, wanted: Sequence[str]) -> pd.Series:
    """Cells equal to, or starting with, one of `wanted` (so 广东 matches 广东省), width/case folded."""
    keys = [_norm(w) for w in wanted if _norm(w)]
    norm = series.map(_norm)
    return norm.map(lambda s: bool(s) and any(s == k or s.startswith(k) for k in keys))


def _tag_mask(series: pd.Series, wanted: Sequence[str]) -> pd.Series:
    keys = {_norm(w) for w in wanted}
    return series.map(lambda cell: bool(keys & {_norm(t) for t in split_list(cell)}))


def _present(series: pd.Series) -> pd.Series:
    return series.map(lambda v: bool(_text(v)))


def last_contact(customers: pd.DataFrame, followups: pd.DataFrame) -> pd.Series:
    """Latest follow-up date per customer (or the sheet's Last Contact when later), NaT if never."""
    dates = pd.to_datetime(followups["date"], errors="coerce") if len(followups) else pd.Series(dtype="datetime64[ns]")
    latest = dates.groupby(followups["customer_id"]).max() if len(followups) else pd.Series(dtype="datetime64[ns]")
    from_log = customers["customer_id"].map(latest)
    from_log = pd.to_datetime(from_log, errors="coerce")
    typed = pd.to_datetime(customers["last_contact"], errors="coerce")
    return pd.concat([from_log, typed], axis=1).max(axis=1)


@dataclass
class Selection:
    """The customers a filter selected, and how many were left out on the way, and why."""

    customers: pd.DataFrame  # the chosen rows (original index and `_row` kept)
    matched: int  # rows the filters matched
    no_consent: int  # of those, left out: no marketing consent
    deduped: int  # of those, left out: same company/address as an earlier row


def select_customers(customers: pd.DataFrame, followups: pd.DataFrame, flt: ExportFilter, today: dt.date,
                     grades: pd.Series | None = None) -> Selection:
    """Apply the filters, then consent (only an explicit "yes" counts), then --dedupe-address."""
    c = customers
    mask = pd.Series(True, index=c.index)
    if flt.grades:
        g = grades if grades is not None else c["grade_override"].where(c["grade_override"].notna(), c["grade"])
        mask &= g.reindex(c.index).isin(flt.grades)
    if flt.owners:
        mask &= _place_mask(c["owner"], flt.owners)
    if flt.provinces:
        mask &= _place_mask(c["province"], flt.provinces)
    if flt.cities:
        mask &= _place_mask(c["city"], flt.cities)
    if flt.tags:
        mask &= _tag_mask(c["tags"], flt.tags)
    if flt.deal_statuses:
        mask &= c["deal_status"].isin(flt.deal_statuses)
    for key in flt.has:
        if key == "email":
            mask &= _present(c["email"]) | _present(c["email2"])
        else:
            mask &= _present(c[key])
    if flt.birthday_month is not None:
        mask &= pd.to_datetime(c["birthday"], errors="coerce").dt.month.eq(flt.birthday_month).fillna(False)
    if flt.not_contacted_days is not None:
        last = last_contact(c, followups)
        cutoff = pd.Timestamp(today) - pd.Timedelta(days=flt.not_contacted_days)
        mask &= last.isna() | (last < cutoff)
    matched = c[mask.astype(bool)]
    consent = matched["marketing_consent"].eq("yes").fillna(False).astype(bool)
    chosen = matched[consent]
    deduped = 0
    if flt.dedupe_address and len(chosen):
        key = chosen["company"].map(_norm) + "|" + chosen["address"].map(_norm)
        # Without a company and an address there is nothing to say two rows are one letter.
        key = key.where(key != "|", "row:" + chosen.index.astype(str))
        keep = ~key.duplicated()
        deduped = int((~keep).sum())
        chosen = chosen[keep]
    return Selection(chosen, matched=len(matched), no_consent=int((~consent).sum()), deduped=deduped)


# --------------------------------------------------------------------------- the list

MERGE_KEYS = ("customer_id", "company", "contact", "title", "salutation", "greeting", "address_line1",
              "address_line2", "address_line3", "postcode", "email", "mobile", "owner")


@lru_cache(maxsize=65536)
def mail_phone(value: str, region: str = "CN") -> str:
    """A phone as a letter shows it: a domestic number in national format ("138 0013 8000"), so it
    neither starts with "+" (which CSV injection guards would prefix) nor loses digits; others as typed."""
    import phonenumbers

    try:
        num = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_valid_number(num) or phonenumbers.region_code_for_number(num) != region:
        return value
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)


def merge_list(chosen: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The mail-merge columns (`MERGE_KEYS`) for the chosen customers, all values text; `lang` is the
    letters' language (salutation, greeting). The command heads the columns (`commands.export.merge_headers`)."""
    rows = []
    for rec in chosen.to_dict("records"):
        sal = salutation(rec.get("contact"), rec.get("title"), lang)
        lines = address_lines(rec.get("address"), rec.get("city"), rec.get("province"), rec.get("country"))
        rows.append({
            "customer_id": _text(rec.get("customer_id")),
            "company": _text(rec.get("company")),
            "contact": _text(rec.get("contact")),
            "title": _text(rec.get("title")),
            "salutation": sal,
            "greeting": greeting(sal, lang),
            "address_line1": lines[0],
            "address_line2": lines[1],
            "address_line3": lines[2],
            "postcode": _text(rec.get("postcode")),
            "email": _text(rec.get("email")) or _text(rec.get("email2")),
            "mobile": mail_phone(_text(rec.get("mobile"))),
            "owner": _text(rec.get("owner")),
        })
    return pd.DataFrame(rows, columns=list(MERGE_KEYS), dtype=object)
