"""The sample's Basic Info rows: companies and people, and duplicates in disguise."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from . import schema
from .samples_base import (
    CLOSED_SHARE_BY_GRADE,
    GRADE_WEIGHTS,
    days_after,
    fullwidth,
    labels_of,
    lang_index,
    pick_weighted,
    pinyin_of,
    s2t,
    unique_digits,
)
from .samples_vocab import (  # the vocabulary; re-exported here for existing imports
    BRAND_SYLLABLES,
    BUILDINGS,
    CITIES,
    GIVEN_CHARS,
    INDUSTRY_WORDS,
    LATIN_BRANDS,
    MOBILE_PREFIXES,
    NOTES,
    ROADS,
    SEVEN_DIGIT_AREAS,
    SOURCES,
    SUFFIX_WEIGHTS,
    SUFFIXES,
    SURNAMES,
    TAGS,
    TITLES,
    TYPOS,
)

# --------------------------------------------------------------------------- customers


def companies(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Distinct company identities: city, brand, industry word, suffix, name format."""
    want = int(n * 1.3) + 50
    city = pick_weighted(rng, want, [c[7] for c in CITIES])
    syl = np.array(list(BRAND_SYLLABLES), dtype=object)
    b1, b2 = rng.integers(0, len(syl), want), rng.integers(0, len(syl), want)
    brands = syl[b1] + syl[b2]
    latin = rng.random(want) < 0.03
    brands[latin] = np.array(LATIN_BRANDS, dtype=object)[rng.integers(0, len(LATIN_BRANDS), latin.sum())]
    word = rng.integers(0, len(INDUSTRY_WORDS), want)
    core = pd.Series(brands).str.cat([pd.Series(word.astype(str)), pd.Series(city.astype(str))], sep="|")
    keep = ~core.duplicated().to_numpy() & (b1 != b2)
    idx = np.flatnonzero(keep)
    while len(idx) < n:  # extremely unlikely; widen with three-syllable brands
        extra = syl[rng.integers(0, len(syl), want)]
        brands = brands + extra
        core = pd.Series(brands).str.cat([pd.Series(word.astype(str)), pd.Series(city.astype(str))], sep="|")
        idx = np.flatnonzero(~core.duplicated().to_numpy())
    idx = idx[:n]
    return {
        "city": city[idx],
        "brand": brands[idx],
        "word": word[idx],
        "suffix": pick_weighted(rng, n, SUFFIX_WEIGHTS),
        "form": pick_weighted(rng, n, (0.5, 0.25, 0.15, 0.10)),
    }


def company_name(city: int, brand: str, word: int, suffix: int, form: int) -> str:
    short = CITIES[city][2].removesuffix("市").removesuffix("自治区")
    w, s = INDUSTRY_WORDS[word][0], SUFFIXES[suffix]
    if form == 0:
        return f"{short}{brand}{w}{s}"
    if form == 1:
        return f"{CITIES[city][2]}{brand}{w}{s}"
    if form == 2:
        return f"{brand}{w}（{short}）{s}"
    return f"{brand}{w}{s}"


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    sur = np.array([s for s, _ in SURNAMES], dtype=object)[pick_weighted(rng, n, [w for _, w in SURNAMES])]
    chars = np.array(list(GIVEN_CHARS), dtype=object)
    g1, g2 = chars[rng.integers(0, len(chars), n)], chars[rng.integers(0, len(chars), n)]
    two = rng.random(n) < 0.7
    return np.where(two, sur + g1 + g2, sur + g1)


def ensure_latin_brands(rng: np.random.Generator, comp: dict, is_company: np.ndarray, k: int) -> None:
    """Make sure at least k companies have a Latin-letter brand (the full-width disguise needs them)."""
    latin = np.array([b.isascii() for b in comp["brand"]]) & is_company
    need = k - int(latin.sum())
    if need <= 0:
        return
    cores = {(b, w, c) for b, w, c in zip(comp["brand"], comp["word"], comp["city"], strict=True)}
    for i in np.flatnonzero(is_company & ~latin)[::7]:
        if need <= 0:
            break
        for j in rng.permutation(len(LATIN_BRANDS)):
            core = (LATIN_BRANDS[j], comp["word"][i], comp["city"][i])
            if core not in cores:
                cores.add(core)
                comp["brand"][i] = LATIN_BRANDS[j]
                need -= 1
                break


def customers_frame(
    rng: np.random.Generator, n: int, lang: str, today: dt.date, owners: list[str], min_latin: int = 0
) -> tuple[pd.DataFrame, dict]:
    L = lang_index(lang)
    is_company = rng.random(n) < 0.75
    comp = companies(rng, n)
    ensure_latin_brands(rng, comp, is_company, min_latin)
    names = np.array(
        [company_name(c, b, w, s, f) for c, b, w, s, f in zip(comp["city"], comp["brand"], comp["word"], comp["suffix"], comp["form"], strict=True)],
        dtype=object,
    )
    city = comp["city"]
    contact = person_names(rng, n)
    contact_py = np.array([pinyin_of(x) for x in contact], dtype=object)
    brand_py = np.array([pinyin_of(b).lower() for b in comp["brand"]], dtype=object)
    word_py = np.array(["".join(p[0] for p in pinyin_list(INDUSTRY_WORDS[w][0])) for w in comp["word"]], dtype=object)
    tld = np.array([".com", ".cn", ".com.cn"], dtype=object)[pick_weighted(rng, n, (0.6, 0.2, 0.2))]
    domain = brand_py + word_py + tld

    def blank_unless(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.where(mask, values, None)

    # Mobiles: distinct 11-digit numbers with real prefixes.
    prefixes = np.array(MOBILE_PREFIXES, dtype=object)[rng.integers(0, len(MOBILE_PREFIXES), n)]
    tails = unique_digits(rng, n, 8)
    mobile = prefixes + np.char.zfill(tails.astype(str), 8).astype(object)
    mobile = pd.Series(mobile)
    dupe = mobile.duplicated()
    while dupe.any():  # same prefix and tail twice: draw a new tail
        mobile[dupe] = prefixes[dupe.to_numpy()] + np.char.zfill(rng.integers(0, 10**8, dupe.sum()).astype(str), 8).astype(object)
        dupe = mobile.duplicated()
    mobile = blank_unless(rng.random(n) < np.where(is_company, 0.93, 0.98), mobile.to_numpy())

    area = np.array([c[5] for c in CITIES], dtype=object)[city]
    # Local numbers have 8 digits, except in the few cities that still use 7 (checked with phonenumbers).
    scale = np.where(np.isin(area, SEVEN_DIGIT_AREAS), 10, 1)
    local_n = (rng.integers(2, 9, n) * 10**7 + rng.integers(0, 10**7, n)) // scale
    local = local_n.astype(str).astype(object)
    phone = blank_unless(rng.random(n) < np.where(is_company, 0.75, 0.15), area + "-" + local)
    local2 = ((rng.integers(2, 9, n) * 10**7 + rng.integers(0, 10**7, n)) // scale).astype(str).astype(object)
    phone2 = blank_unless(rng.random(n) < 0.08, area + "-" + local2)
    fax_local = (local_n + 1).astype(str).astype(object)
    fax = blank_unless(is_company & (rng.random(n) < 0.25), area + "-" + fax_local)

    personal_domain = np.array(["163.com", "126.com", "qq.com", "sina.com", "foxmail.com"], dtype=object)[
        pick_weighted(rng, n, (0.3, 0.15, 0.35, 0.1, 0.1))
    ]
    digits = rng.integers(10, 9999, n).astype(str).astype(object)
    qq = rng.integers(10**7, 10**10, n).astype(str).astype(object)
    personal = np.where(personal_domain == "qq.com", qq, contact_py + digits) + "@" + personal_domain
    email = pd.Series(np.where(is_company, contact_py + "@" + domain, personal))
    rank = email.groupby(email).cumcount().to_numpy()
    email = email.to_numpy()
    again = rank > 0
    email[again] = [e.replace("@", f"{r}@", 1) for e, r in zip(email[again], rank[again], strict=True)]
    email = blank_unless(rng.random(n) < np.where(is_company, 0.8, 0.6), email)
    email2 = blank_unless(is_company & (rng.random(n) < 0.05), "sales@" + domain)
    website = blank_unless(is_company & (rng.random(n) < 0.45), "www." + domain)

    district = np.array([CITIES[c][6][k % len(CITIES[c][6])] for c, k in zip(city, rng.integers(0, 12, n), strict=True)], dtype=object)
    roads = np.array(ROADS, dtype=object)[rng.integers(0, len(ROADS), n)]
    number = rng.integers(1, 999, n).astype(str).astype(object)
    building = np.where(
        rng.random(n) < 0.35,
        np.array(BUILDINGS, dtype=object)[rng.integers(0, len(BUILDINGS), n)]
        + rng.integers(1, 30, n).astype(str).astype(object)
        + "楼",
        "",
    )
    city_zh = np.array([c[2] for c in CITIES], dtype=object)[city]
    address = blank_unless(rng.random(n) < 0.9, city_zh + district + roads + number + "号" + building)
    postcode = blank_unless(
        rng.random(n) < 0.85,
        np.array([c[4] for c in CITIES], dtype=object)[city] + np.char.zfill(rng.integers(0, 100, n).astype(str), 2).astype(object),
    )

    grade = pick_weighted(rng, n, GRADE_WEIGHTS)  # 0..4 = A..E: the truth the other fields agree with
    closed = rng.random(n) < CLOSED_SHARE_BY_GRADE[grade]
    latent_d = (grade == 3) & (rng.random(n) < 0.7)
    demand_code = np.where(grade <= 2, 0, np.where(grade == 3, np.where(latent_d, 1, 0), 2))
    lo = np.array([1, 31, 91, 200, 200])[grade]
    hi = np.array([30, 90, 180, 400, 500])[grade]
    close_in = (lo + rng.random(n) * (hi - lo + 1)).astype(int).astype(float)
    close_in[(grade == 4) | (latent_d & (rng.random(n) < 0.6))] = np.nan
    deal = np.where(closed, 0, np.where(grade <= 2, 1, 2))
    created_ago = rng.integers(0, 730, n).astype(float)

    imp = np.where(rng.random(n) < np.where(closed, 0.2, 0.06), 0, np.where(rng.random(n) < 0.05, 1, 2))
    imp_labels = np.where(rng.random(n) < 0.1, None, labels_of(schema.IMPORTANCES, lang)[imp])
    credit = pick_weighted(rng, n, (0.6, 0.3, 0.1))
    credit_labels = np.where(is_company | (rng.random(n) < 0.3), labels_of(schema.CREDIT_RATINGS, lang)[credit], None)
    birthday_ago = np.where(~is_company & (rng.random(n) < 0.7), rng.integers(22 * 365, 65 * 365, n), np.nan)
    consent = pick_weighted(rng, n, (0.85, 0.10, 0.05))
    consent_labels = np.append(labels_of(schema.YES_NO, lang), None)[consent]
    tag = rng.integers(0, len(TAGS), n)
    tags = blank_unless(rng.random(n) < 0.25, np.array([t[L] for t in TAGS], dtype=object)[tag])
    note = rng.integers(0, len(NOTES), n)
    notes = blank_unless(rng.random(n) < 0.12, np.array([t[L] for t in NOTES], dtype=object)[note])
    override = blank_unless(rng.random(n) < 0.03, labels_of(schema.GRADES, lang)[rng.integers(0, 5, n)])
    title = blank_unless(is_company & (rng.random(n) < 0.9), np.array([t[L] for t in TITLES], dtype=object)[rng.integers(0, len(TITLES), n)])
    source = np.array([s[L] for s in SOURCES], dtype=object)[pick_weighted(rng, n, [s[2] for s in SOURCES])]
    source = blank_unless(rng.random(n) < 0.9, source)
    owner = np.array(owners, dtype=object)[pick_weighted(rng, n, (0.24, 0.22, 0.2, 0.18, 0.16))]

    frame = pd.DataFrame(
        {
            "customer_id": np.full(n, None, dtype=object),
            "company": blank_unless(is_company, names),
            "contact": contact,
            "title": title,
            "mobile": mobile,
            "phone": phone,
            "phone2": phone2,
            "fax": fax,
            "email": email,
            "email2": email2,
            "website": website,
            "country": np.full(n, ("中国", "China")[L], dtype=object),
            "province": np.array([c[0 + L] for c in CITIES], dtype=object)[city],
            "city": np.array([c[2 + L] for c in CITIES], dtype=object)[city],
            "address": address,
            "postcode": postcode,
            "industry": blank_unless(is_company, np.array([w[1 + L] for w in INDUSTRY_WORDS], dtype=object)[comp["word"]]),
            "main_products": blank_unless(is_company & (rng.random(n) < 0.8), np.array([w[3 + L] for w in INDUSTRY_WORDS], dtype=object)[comp["word"]]),
            "source": source,
            "owner": owner,
            "customer_type": labels_of(schema.CUSTOMER_TYPES, lang)[np.where(is_company, 0, 1)],
            "deal_status": labels_of(schema.DEAL_STATUSES, lang)[deal],
            "demand": labels_of(schema.DEMANDS, lang)[demand_code],
            "expected_close": days_after(today, close_in),
            "importance": imp_labels,
            "credit_rating": credit_labels,
            "birthday": days_after(today, -birthday_ago),
            "tags": tags,
            "marketing_consent": consent_labels,
            "notes": notes,
            "created": days_after(today, -created_ago),
            "grade_override": override,
        }
    )
    hidden = {"grade": grade, "closed": closed, "is_company": is_company, "comp": comp, "domain": domain}
    return frame, hidden


def pinyin_list(text: str) -> list[str]:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(text)


# --------------------------------------------------------------------------- duplicates in disguise


def strip_suffix(name: str) -> str:
    for s in sorted(SUFFIXES, key=len, reverse=True):
        if name.endswith(s):
            return name[: -len(s)]
    return name


def disguise(kind: str, row: dict, parts: dict, rng: np.random.Generator) -> dict | None:
    """A duplicate of one customer row, disguised; None if this customer cannot carry that disguise."""
    dup = dict(row)
    company = row["company"]
    if kind in ("dup_no_suffix", "dup_region_paren", "dup_traditional", "dup_fullwidth") and not company:
        return None
    if kind == "dup_no_suffix":
        dup["company"] = strip_suffix(company)
    elif kind == "dup_region_paren":
        if parts["brand"].isascii():
            return None
        form = 2 if parts["form"] in (0, 1) else 0
        if parts["form"] == 3:
            return None
        dup["company"] = company_name(parts["city"], parts["brand"], parts["word"], parts["suffix"], form)
    elif kind == "dup_traditional":
        conv = s2t().convert
        dup["company"], dup["contact"] = conv(company), conv(row["contact"])
        if dup["company"] == company:
            return None
    elif kind == "dup_fullwidth":
        if not parts["brand"].isascii():
            return None
        dup["company"] = fullwidth(company)
        if row["email"]:
            dup["email"] = fullwidth(row["email"])
    elif kind == "dup_mobile_format":
        m = row["mobile"]
        if not m:
            return None
        style = int(rng.integers(0, 4))
        dup["mobile"] = (f"+86 {m[:3]} {m[3:7]} {m[7:]}", f"{m[:3]}-{m[3:7]}-{m[7:]}", f"+86-{m}", f"86 {m}")[style]
        dup["email"] = None
    elif kind == "dup_email_upper":
        if not row["email"]:
            return None
        dup["email"] = row["email"].upper()
        dup["mobile"] = None
    elif kind == "dup_contact_typo":
        name = row["contact"]
        spots = [i for i, ch in enumerate(name) if i > 0 and ch in TYPOS]
        if not spots or not company:
            return None
        i = spots[-1]
        dup["contact"] = name[:i] + TYPOS[name[i]] + name[i + 1 :]
        dup["mobile"] = None
    if kind in ("dup_no_suffix", "dup_region_paren", "dup_traditional") and rng.random() < 0.5:
        dup["email"] = None  # typed by someone who only had the card's company name and phone
    return dup


