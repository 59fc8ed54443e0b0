"""The word lists duplicate matching folds away, declared once.

Each list is compiled to the Python `re` patterns of the per-value path and to the RE2 patterns of
the Arrow (pyarrow.compute) path by the same helpers here, so both paths strip the same words in
the same order (tests/test_dedupe_words.py checks they give identical keys). The patterns use the
characters themselves, not `\\u` escapes: RE2 does not read those.
"""

from __future__ import annotations

HAN = "\u4e00-\u9fff"  # a character class body: CJK unified ideographs
CJK = "\u3400-\u9fff"  # … with extension A (rare name characters)

PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西",
    "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古",
    "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
)
CITIES = (
    "广州", "深圳", "珠海", "汕头", "佛山", "东莞", "中山", "惠州", "江门", "湛江", "茂名", "肇庆", "梅州", "汕尾",
    "河源", "阳江", "清远", "潮州", "揭阳", "云浮", "韶关", "南京", "苏州", "无锡", "常州", "南通", "扬州", "镇江",
    "泰州", "徐州", "盐城", "淮安", "连云港", "宿迁", "昆山", "江阴", "杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴",
    "金华", "衢州", "舟山", "台州", "丽水", "义乌", "合肥", "芜湖", "蚌埠", "马鞍山", "安庆", "福州", "厦门", "泉州",
    "漳州", "莆田", "济南", "青岛", "烟台", "潍坊", "淄博", "威海", "临沂", "济宁", "郑州", "洛阳", "开封", "武汉",
    "宜昌", "襄阳", "长沙", "株洲", "湘潭", "成都", "绵阳", "西安", "昆明", "贵阳", "南宁", "桂林", "柳州", "海口",
    "三亚", "石家庄", "唐山", "保定", "廊坊", "太原", "大同", "沈阳", "大连", "鞍山", "长春", "哈尔滨", "大庆", "南昌",
    "赣州", "兰州", "西宁", "银川", "乌鲁木齐", "拉萨", "呼和浩特", "包头", "台北", "高雄", "台中",
)
REGIONS = PROVINCES + CITIES
MUNICIPALITIES = ("北京", "天津", "上海", "重庆")  # a province that is also its own city
# Not a place that tells branches apart ("阿里巴巴（中国）" is the same company as "阿里巴巴").
GENERIC_REGIONS = ("中国", "china", "中华", "全国", "国际", "亚太", "asia", "international")

# Suffixes of a region name ("广东省", "广西壮族自治区"); none is a prefix of another.
REGION_SUFFIXES = ("省", "市", "自治区", "特别行政区", "壮族自治区", "回族自治区", "维吾尔自治区")
PROVINCE_SUFFIXES = ("省", "自治区")  # what marks an unlisted name as a province in an address
CITY_SUFFIXES = ("市", "自治州", "地区", "盟")
DISTRICT_SUFFIXES = ("区", "县", "旗", "市")
PLACE_SUFFIXES = REGION_SUFFIXES + ("自治州", "地区")  # dropped from a province or city cell

# Legal-form suffixes of a company name, longest first, so "股份有限公司" goes whole and never leaves "股份".
LEGAL_SUFFIXES_CN = tuple(sorted((
    "股份有限公司", "有限责任公司", "有限公司", "集团股份有限公司", "集团有限公司", "集团公司", "集团", "分公司",
    "总公司", "公司", "有限合伙", "合伙企业", "股份公司", "责任公司", "办事处", "分店", "总店", "总部",
), key=len, reverse=True))
LEGAL_SUFFIXES_EN = ("co", "company", "ltd", "limited", "inc", "incorporated", "corp", "corporation", "llc", "plc",
                     "gmbh", "group", "holdings?", "pte", "pty", "sa", "ag")  # regex words: "holdings?"

HONORIFICS_CN = ("先生", "女士", "小姐", "太太", "老板", "总经理", "经理", "总监", "主任", "老师", "教授", "博士", "总", "工",
                 "sir")  # dropped from the end of a Chinese name
HONORIFICS_EN = ("mr", "mrs", "ms", "miss", "dr", "prof")  # dropped from the start of a Latin name

STREET_WORDS = (("street", "st"), ("road", "rd"), ("avenue", "ave"), ("place", "pl"), ("crescent", "cres"),
                ("drive", "dr"), ("court", "ct"), ("close", "cl"), ("terrace", "tce"))


def one_of(words: tuple[str, ...]) -> str:
    """A non-capturing alternation, in the listed order (Python's re and RE2 both take the first
    alternative that matches, so the order is part of the meaning)."""
    return "(?:" + "|".join(words) + ")"


def longest_first(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(words, key=len, reverse=True))


REGION_ALT = "|".join(longest_first(REGIONS))  # a listed region, the longest that fits
REGION_SUFFIX = one_of(REGION_SUFFIXES) + "?"
