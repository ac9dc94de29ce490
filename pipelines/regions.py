"""GB/T 2260 region codes: the province table, a historical name index, and resolution.

The historical table is python-stdnum's ``cn/loc.dat`` (every code since 1980 with the years it
was valid, e.g. 公主岭市 220381 until 2020, 220184 since). It is read once per process.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

PROVINCES = {
    "110000": "北京市", "120000": "天津市", "130000": "河北省", "140000": "山西省",
    "150000": "内蒙古自治区", "210000": "辽宁省", "220000": "吉林省", "230000": "黑龙江省",
    "310000": "上海市", "320000": "江苏省", "330000": "浙江省", "340000": "安徽省",
    "350000": "福建省", "360000": "江西省", "370000": "山东省", "410000": "河南省",
    "420000": "湖北省", "430000": "湖南省", "440000": "广东省", "450000": "广西壮族自治区",
    "460000": "海南省", "500000": "重庆市", "510000": "四川省", "520000": "贵州省",
    "530000": "云南省", "540000": "西藏自治区", "610000": "陕西省", "620000": "甘肃省",
    "630000": "青海省", "640000": "宁夏回族自治区", "650000": "新疆维吾尔自治区",
    "710000": "台湾省", "810000": "香港特别行政区", "820000": "澳门特别行政区",
}
#: The 31 provincial-level divisions whose bodies publish under the 政府信息公开条例 (not Taiwan,
#: Hong Kong, Macau): what a registry should cover and what the report's coverage lists.
MAINLAND_PROVINCES = {code: name for code, name in PROVINCES.items()
                      if code not in ("710000", "810000", "820000")}

_CODE = re.compile(r"[0-9]{6}")  # used with fullmatch: "530000\n" is not a code
_ENTRY = re.compile(r"^\s+(\d{4}) county=\"(.*)\"$")
_NAME = re.compile(r"^(?:\[(\d{4})?-(\d{4})?\])?(.+)$")
# Names that are not places: they would match everywhere.
_GENERIC = {"市辖区", "县", "郊区", "城区", "矿区", "市区", "省直辖县级行政区划",
            "自治区直辖县级行政区划", "省直辖行政单位", "新区", "开发区"}
_SHORT_PROVINCE = re.compile(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")


@dataclass(frozen=True)
class Place:
    code: str  # six digits
    name: str
    valid_from: int | None
    valid_to: int | None

    def valid_in(self, year: int | None) -> bool:
        if year is None:
            return True
        return (self.valid_from is None or self.valid_from <= year) and (
            self.valid_to is None or year <= self.valid_to)


def is_region_code(code: str | None) -> bool:
    """Whether ``code`` is a six-digit code under a known province."""
    return bool(isinstance(code, str) and _CODE.fullmatch(code)
                and code[:2] + "0000" in PROVINCES)


def split_region(code: str) -> tuple[str, str | None, str | None]:
    """``(province_code, city_code, county_code)`` of a valid six-digit region code; the finer
    levels are None when the code stops above them (``220000`` → no city, no county)."""
    province = code[:2] + "0000"
    city = code[:4] + "00" if code[2:4] != "00" else None
    county = code if code[4:] != "00" else None
    return province, city, county


@functools.cache
def places() -> dict[str, list[Place]]:
    """Name → every place that has borne it (provinces, prefectures, counties), from loc.dat.
    Autonomous prefectures and counties are also indexed by their short forms (楚雄彝族自治州 →
    楚雄州, 关岭布依族苗族自治县 → 关岭自治县)."""
    import stdnum

    path = Path(stdnum.__file__).parent / "cn" / "loc.dat"
    index: dict[str, list[Place]] = {}

    def add(name: str, place: Place) -> None:
        if name not in _GENERIC and len(name) >= 2:
            index.setdefault(name, []).append(place)

    province = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line[:2]
            name = line.split('"')[1]
            place = Place(province + "0000", name, None, None)
            add(name, place)
            add(_SHORT_PROVINCE.sub("", name), place)
            continue
        match = _ENTRY.match(line)
        if not match or match[1] == "0000":
            continue
        for part in match[2].split(","):
            years = _NAME.match(part)
            place = Place(province + match[1], years[3],
                          int(years[1]) if years[1] else None, int(years[2]) if years[2] else None)
            add(years[3], place)
            # 黔东南苗族侗族自治州 is written 黔东南州, 关岭布依族苗族自治县 关岭自治县: the name
            # before its peoples' (the first two characters where those are not listed)
            prefix = _PEOPLES.match(years[3])
            short = {years[3][:2], prefix[1]} if prefix else {years[3][:2]}
            if years[3].endswith("自治州"):
                for name in short:
                    add(name + "州", place)
            elif years[3].endswith(("自治县", "自治旗")) and len(years[3]) > 5:
                for name in short:
                    add(name + years[3][-3:], place)
            if len(years[3]) == 3 and years[3][-1] in _SHORT_SUFFIXES and match[1][2:] != "00":
                # 来凤县 names its zone 来凤经济开发区: the short name, read only before a
                # zone's name (ZONE_AFTER); a county never holds a town's or a city's name
                add(years[3][:2], place)
            elif len(years[3]) >= 3 and years[3].endswith("市"):
                # 连云港市 names its zone 连云港经济技术开发区: read only before a zone's name
                add(years[3][:-1], place)
    return index


#: The peoples an autonomous prefecture's or county's name holds after its place name.
_PEOPLES = re.compile(
    "^(.{2,6}?)(?:" + "|".join(sorted((
        "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白",
        "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡",
        "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬",
        "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂", "保安",
        "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺", "各"),
        key=len, reverse=True)) + ")族?")


#: The zones a county names with its short name (来凤经济开发区, 番禺经济技术开发区).
ZONE_AFTER = re.compile(r"经济(?:技术)?开发区|经开区|高新(?:技术产业开发)?区|工业园区|产业园"
                        # a zone with a name of its own: 武汉东湖新技术开发区, 上海张江高新区
                        r"|[\u4e00-\u9fff]{2,3}?(?:新技术(?:产业)?开发区|高新(?:技术产业开发)?区)")


#: Annual reports exist since the regulations took effect (2008): a report of unknown year is
#: read with the names in use since then (郫县 until 2016, 郫都区 since; not 1983's codes).
FIRST_REPORT_YEAR = 2008
#: Two-character names (郫县, 沛县, 和县) read as places only where a name is expected: at
#: the start of a line or right after another place's name (和县 in "市委和县委" is no place).
_SHORT_SUFFIXES = ("县", "区", "市", "旗")


def find_places(text: str, *, year: int | None = None) -> list[tuple[str, list[Place]]]:
    """Place names in ``text``, left to right, longest match first, each with the places that
    bore the name in ``year`` (any year since :data:`FIRST_REPORT_YEAR` when None). Names of
    two characters are only taken as above (:data:`_SHORT_SUFFIXES`), since bare
    two-character words match too much prose.

    Every name is found in one pass of an Aho-Corasick automaton over the text; the choice
    among overlapping names is then made left to right at the positions where names start."""
    index = places()
    names, automaton = _automaton()
    starts: dict[int, list[str]] = {}
    for which, start, _end in automaton.find_matches_as_indexes(text, overlapping=True):
        starts.setdefault(start, []).append(names[which])
    found = []
    taken_to = 0  # where the last name taken ends
    for i in sorted(starts):
        if i < taken_to:
            continue
        after_place = i == 0 or i == taken_to and bool(found) or text[i - 1] == "\n"
        for name in sorted(starts[i], key=len, reverse=True):
            candidates = [p for p in index[name] if _valid(p, year)]
            if len(name) == 2 and name[1] not in _SHORT_SUFFIXES:
                # a county's short name (来凤), and only before a zone's name
                candidates = [p for p in candidates if p.name[:2] == name
                              and len(p.name) == 3] if ZONE_AFTER.match(text, i + 2) else []
            elif len(name) == 2 and not after_place:
                continue
            elif any(p.name == name + "市" for p in candidates) and \
                    not ZONE_AFTER.match(text, i + len(name)):
                # a city's short name (连云港), like a county's, only before a zone's name
                candidates = [p for p in candidates if p.name != name + "市"]
            if candidates:
                found.append((name, candidates))
                taken_to = i + len(name)
                break
    return found


@functools.cache
def _automaton():
    """Every place name, and an Aho-Corasick automaton of them that gives each match as the
    name's index (ahocorasick_rs, in Rust: pyahocorasick's scan cost 0.25 µs a character,
    0.8 ms of a report's 4,000 opening characters, for a root with a thousand children; trying
    every name length at every position in Python took ~20 ms per 2,000 characters)."""
    import ahocorasick_rs

    names = sorted(places())
    return names, ahocorasick_rs.AhoCorasick(names)


def _valid(place: Place, year: int | None) -> bool:
    if year is not None:
        return place.valid_in(year)
    return place.valid_to is None or place.valid_to >= FIRST_REPORT_YEAR


#: How ``region_evidence`` says that a region given for the document (``ingest --province``, a
#: portal's region, the site's identifier) stands against the document's own place names (the
#: run's summary lists such reports: :func:`contradicted`).
KEPT_ALTHOUGH = "kept although the document names"
SET_ASIDE = "set aside: the document names"


def contradicted(evidence: str | None) -> bool:
    """Whether a report's ``region_evidence`` says a region given for it contradicts the
    document's own place names."""
    return KEPT_ALTHOUGH in (evidence or "") or SET_ASIDE in (evidence or "")


@dataclass(frozen=True)
class Resolution:
    """A region and the evidence for it; ``code`` None when the signals disagree (the
    evidence says which)."""

    code: str | None
    evidence: str
    #: Which string named it: the agency (a body's name), the title, the text, or a given code.
    source: str = "text"


def resolve_names(primary: str | None, context: str | None = None, *,
                  year: int | None = None, within: str | None = None,
                  primary_is: str = "agency", postcode: str | None = None
                  ) -> Resolution | None:
    """The region that the place names in ``primary`` (an agency name) identify, else those in
    ``context`` (title and opening of the text).

    Names are read left to right, as Chinese writes places from the largest down: the first
    name that identifies one place is kept, and later names refine it only when they lie
    inside it (吉林市 then 龙潭区 → 220203). A name borne by several places (西湖区) decides
    only if exactly one of them lies inside what is already known or has a parent named in
    either string, or (``postcode``: the document's own 邮编) lies in the province the
    postcode belongs to; otherwise it is passed over. ``within`` (a known region code) keeps
    only places inside it."""
    primary_found = find_places(_qualifier_spelt_out(primary or "", year), year=year)
    context_found = find_places(context or "", year=year)
    if within:
        inside = _prefix(within)
        primary_found = [(n, [p for p in c if p.code.startswith(inside)])
                         for n, c in primary_found]
        context_found = [(n, [p for p in c if p.code.startswith(inside)])
                         for n, c in context_found]
    named = {p.code for _, cands in primary_found + context_found for p in cands}
    named |= _press_places(f"{primary or ''}\n{context or ''}", year)
    for source, found in ((primary_is, primary_found), ("text", context_found)):
        # A body's name is one chain of places (天水市公安局清水县分局); running text names
        # many, and a later one refines only when it follows on (哈尔滨市松北区, not 哈尔滨市…
        # 松北区: a district the city's report speaks of).
        place, names = _refine(found, named, text=context if source == "text" else None,
                               postcode=postcode)
        if place is not None:
            return Resolution(place.code, f"{source} names {' '.join(names)} → {place.code}",
                              source)
    return None


def _short_region(name: str, year: int | None) -> Place | None:
    """The one province or prefecture-level city a short name (青海, 廊坊) stands for."""
    found = [p for p in places().get(name, ()) if _valid(p, year) and (
        p.code[2:] == "0000" or p.code[4:] == "00" and p.name == name + "市")]
    return found[0] if len(found) == 1 else None


#: A province's or city's short name in parentheses in a body's name: the place the body
#: belongs to (北京大兴国际机场临空经济区(廊坊)管理委员会, 中国(河北)自由贸易试验区).
_QUALIFIER = re.compile(r"[(（]([\u4e00-\u9fff]{2,3})[)）]")


def _qualifier_spelt_out(name: str, year: int | None) -> str:
    """A body's name with a place in parentheses written out in full (廊坊 → 廊坊市), so that
    it is read as its place."""
    def spelt(match: re.Match) -> str:
        place = _short_region(match[1], year)
        return place.name if place is not None else match[0]

    return _QUALIFIER.sub(spelt, name)


#: The name of a province's or city's own press (青海日报, 西宁晚报).
_PRESS = re.compile(r"日报|晚报|都市报|广播电视台|电视台")


def _press_places(text: str, year: int | None) -> set[str]:
    """The provinces and cities whose press a text names (在青海日报、西宁晚报…刊登). They tell
    apart places of one name (城中区: 西宁's or 柳州's) and decide nothing alone: a body
    publishes in its own place's papers, but a news item may cite another's."""
    codes = set()
    for press in _PRESS.finditer(text):
        for length in (3, 2):
            place = _short_region(text[max(0, press.start() - length):press.start()], year)
            if place is not None:
                codes.add(place.code)
                break
    return codes


#: A postcode's first two digits → the provinces (their codes' first two digits) whose places
#: have them (China Post's zones). Three zones reach into 内蒙古: 兴安盟 (137), 额济纳旗 and
#: 阿拉善右旗 (73), 阿拉善左旗 (75). Written here: no maintained library maps postcodes.
_POSTCODE_PROVINCES: dict[str, tuple[str, ...]] = {
    "10": ("11",), "20": ("31",), "30": ("12",), "40": ("50",),
    "01": ("15",), "02": ("15",), "03": ("14",), "04": ("14",),
    "05": ("13",), "06": ("13",), "07": ("13",), "11": ("21",), "12": ("21",),
    "13": ("22", "15"), "15": ("23",), "16": ("23",), "21": ("32",), "22": ("32",),
    "23": ("34",), "24": ("34",), "25": ("37",), "26": ("37",), "27": ("37",),
    "31": ("33",), "32": ("33",), "33": ("36",), "34": ("36",), "35": ("35",), "36": ("35",),
    "41": ("43",), "42": ("43",), "43": ("42",), "44": ("42",),
    "45": ("41",), "46": ("41",), "47": ("41",), "51": ("44",), "52": ("44",),
    "53": ("45",), "54": ("45",), "55": ("52",), "56": ("52",), "57": ("46",),
    "61": ("51",), "62": ("51",), "63": ("51",), "64": ("51",),
    "65": ("53",), "66": ("53",), "67": ("53",), "71": ("61",), "72": ("61",),
    "73": ("62", "15"), "74": ("62",), "75": ("64", "15"), "81": ("63",),
    "83": ("65",), "84": ("65",), "85": ("54",), "86": ("54",),
}
#: The document's postcode (邮编：136200), where it says how to reach the body.
POSTCODE = re.compile(r"(?:邮编|邮政编码)\s*[:：]?\s*(\d{6})(?!\d)")


def postcode_of(text: str) -> str | None:
    """The one postcode a text gives (None when it gives none, or several that differ)."""
    found = set(POSTCODE.findall(text))
    return found.pop() if len(found) == 1 else None


#: A body's name after a place's: the place is that body's.
_BODY_AFTER = re.compile(r"人民政府|政府|[\u4e00-\u9fff]{0,8}?(?:局|委员会|办公室|办事处|中心)")
#: A government after a place's government in a list: 南宁市人民政府、柳州市人民政府 (not
#: 潢川县政务服务中心、付店镇: a body and a town its news names).
_NEXT_GOVERNMENT = re.compile(r"(?<=政府)、[\u4e00-\u9fff]{1,8}?[省市县区旗州盟](?:人民)?政府")
#: A place an evaluation ranks (潍坊市名列第1位, 潍坊市政务公开名列16市首位, 济宁市分列第2位到第5位,
#: 寿光市位居全省第一): one of the places a ranking names, not the text's own.
_RANKED = re.compile(r"[\u4e00-\u9fff]{0,8}?(?:名列|位列|位居|排名第|排第|排在第|分列第|列第)")
#: An address (地址：哈尔滨市松北区世纪大道1号): where an office sits, not whose report it is.
ADDRESS = re.compile(r"(?:地址|通讯地址|联系地址|办公地址)\s*[:：][^，,。;；)）\n]{0,60}")


def _refine(found: list[tuple[str, list[Place]]], named: set[str], *,
            text: str | None = None, postcode: str | None = None
            ) -> tuple[Place | None, list]:
    """The place the names identify, left to right (see :func:`resolve_names`); with ``text``,
    a name refines the place only where it follows right after the names before it."""
    current: Place | None = None
    names: list[str] = []
    position = end = 0  # where the names taken so far end, in text
    for name, candidates in found:
        if text is not None:
            position = text.find(name, position)
            end_here = position + len(name)
            # on from the names before it, or the place of a body (东城区人民政府, 平潭县地税局),
            # not one of a list (未央区、雁塔区、…、长安区政府: the places a city's text ranks)
            body = _BODY_AFTER.match(text, end_here)
            listed = text[position - 1:position] == "、" or text.startswith("、", end_here) or (
                body is not None and bool(_NEXT_GOVERNMENT.match(text, body.end()))) or \
                bool(_RANKED.match(text, end_here))
            follows = position == end or (body is not None and not listed)
            position = end_here
            if current is not None and not follows or current is None and listed:
                continue  # (各行署、拉萨市人民政府: one of the bodies a region's report counts)
        if current is not None:
            candidates = [p for p in candidates if _inside(p.code, current.code)]
        note = ""
        if len(candidates) > 1:
            # a parent named by another name than this one (广安 is 广安市 and its 广安区: the
            # city does not name the district's parent)
            others = named - {p.code for p in candidates}
            parented = [p for p in candidates if _parents(p.code) & others]
            posted = [p for p in candidates if p.code[:2] in _POSTCODE_PROVINCES.get(
                (postcode or "")[:2], ())]
            by_parent = parented if len(parented) == 1 else None
            by_postcode = posted if len(posted) == 1 else None
            if by_postcode and parented and by_postcode[0] not in parented:
                candidates = []  # the names and the postcode disagree: passed over
            elif by_postcode and not by_parent:
                note = (f" (1 of {len(candidates)} so named; the only one in the province of "
                        f"its postcode {postcode})")
                candidates = by_postcode
            else:
                note = f" (1 of {len(candidates)} so named; its parent is named too)"
                candidates = parented
        if len(candidates) == 1:
            current = candidates[0]
            names.append(name + note)
            if text is not None:
                end = end_here
    return current, names


def _shared(one: str, other: str) -> str | None:
    """The province or city two region codes both lie in (None when they share no province)."""
    if one[:4] == other[:4] and one[2:4] != "00" and one[:4] + "00" in known_codes():
        return one[:4] + "00"
    return one[:2] + "0000" if one[:2] == other[:2] else None


def _prefix(code: str) -> str:
    return code[:2] if code[2:] == "0000" else code[:4] if code[4:] == "00" else code


def _inside(code: str, parent: str) -> bool:
    return code != parent and code.startswith(_prefix(parent))


def _agree(one: str, other: str) -> bool:
    """Whether two codes can name the same body's region: equal, or one inside the other."""
    return one == other or _inside(one, other) or _inside(other, one)


def _parents(code: str) -> set[str]:
    return {code[:4] + "00", code[:2] + "0000"} - {code}


# 统一社会信用代码: 2 characters, the 6-digit region, 9-character organisation code, 1 check.
_USCC = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NP-RTUWXY]{2}(\d{6})[0-9A-HJ-NP-RTUWXY]{10}"
                   r"(?![0-9A-Z])")


def in_use(code: str, year: int | None) -> str | None:
    """``code`` if GB/T 2260 had it in ``year``, else the finest level above it that it had
    (a county renamed since keeps its city; 359000, used 1986–1989, keeps its province);
    None when not even the province was."""
    for candidate in dict.fromkeys((code, code[:4] + "00", code[:2] + "0000")):
        if candidate[2:] == "0000" and candidate in PROVINCES:
            return candidate
        if any(_valid(p, year) for p in _by_code().get(candidate, ())):
            return candidate
    return None


def given_regions(*, configured: str | None, site_id_code: str | None, index_no: str | None,
                  year: int | None) -> list[tuple[str, str]]:
    """(label, code) of the codes a document comes with, the document's own identifiers first
    (a 统一社会信用代码 in its 索引号, a 索引号 that starts with a region code), then what is
    known of its site (the portal's configured region, the site's SiteIDCode). Each is a code
    in use in the report's year, or the finest level above it that was (the label says so)."""
    found: list[tuple[str, str]] = []

    def add(label: str, code: str | None) -> None:
        if not code or not is_region_code(code) or code not in known_codes():
            return
        kept = in_use(code, year)
        if kept is None:
            return
        if kept != code:
            when = year if year is not None else f"any year since {FIRST_REPORT_YEAR}"
            label += f" ({code} was not in use in {when}: {kept} kept)"
        found.append((label, kept))

    match = _USCC.search(index_no or "")
    if match:
        from stdnum.cn import uscc

        checked = "valid" if uscc.is_valid(match[0]) else "check digit wrong"
        add(f"统一社会信用代码 {match[0]} ({checked}) in 索引号 → {match[1]}", match[1])
    match = _INDEX_REGION.match((index_no or "").strip())
    if match and not _USCC.search(index_no or ""):
        add(f"索引号 {index_no.strip()} starts with region code {match[1]}", match[1])
    match = _INDEX_TOWNSHIP.match((index_no or "").strip())
    if match and not _is_organization_code(match[0][:9]):
        add(f"索引号 {index_no.strip()} starts with region code {match[1]} and a body's "
            "number", match[1])
    if configured:
        add(f"configured region {configured}", configured)
    if site_id_code and re.fullmatch(r"\d{10}", site_id_code.strip()):
        add(f"SiteIDCode {site_id_code.strip()} → {site_id_code.strip()[:6]}",
            site_id_code.strip()[:6])
    return found


def resolve_region(*, configured: str | None = None, override: str | None = None,
                   site_id_code: str | None = None, index_no: str | None = None,
                   agency: str | None = None, title: str | None = None, opening: str = "",
                   year: int | None = None) -> Resolution | None:
    """The region of a report, with the evidence.

    The document's own names decide: the place names of its agency, then of its title (a
    body's name: ``平潭县人民政府2019年…``), then of its opening. What comes with the document
    (its 索引号's codes, the portal's configured region, the site's SiteIDCode: who runs the
    *site*, not whose report this is) refines what the document names when it lies inside it
    and the names came from the text, and stands in when the document names no place. A given
    code that disagrees with the body the document names is set aside (the evidence says so);
    one that disagrees with places the text only mentions leaves the region NULL. Every code is
    one in use in the report's year. ``override`` (``ingest --province``) is the user's word:
    kept, refined by the names inside it, and the evidence says when the document disagrees."""
    context = f"{title or ''}\n{ADDRESS.sub('', opening)}"
    postcode = postcode_of(opening)
    own = resolve_names(agency, context, year=year, postcode=postcode)
    by_title = resolve_names(title, opening, year=year, primary_is="title",
                             postcode=postcode) if title else None
    if own is not None and own.source == "agency" and by_title is not None and \
            by_title.source == "title" and not _agree(own.code, by_title.code):
        # Both are the document's own names: what they share stands (海东地区行署办公室 over
        # a report titled 海东市…, the prefecture renamed a city that year: 青海 either way).
        shared = _shared(own.code, by_title.code)
        return Resolution(shared, f"{own.evidence}, but the {by_title.evidence}: they disagree"
                          + (f", both in {shared}" if shared else ", no region stored"), "agency")
    if own is None or own.source == "text":
        own = by_title if by_title is not None and by_title.source == "title" else own
    if own is not None and own.source == "text":
        own = _at_its_own_level(own, opening)
    if agency and (own is None or own.source == "text" and own.code[4:] == "00"):
        # a township's text that names its province or city (山西省 in a cited plan's title)
        # and writes the township under its county (盂县东梁乡) places it in that county
        placed = _township_placed(agency, opening, year)
        if placed is not None and (own is None or _inside(placed.code, own.code)):
            own = placed
    if override:
        return _overridden(override, own, agency, context, year)
    given = given_regions(configured=configured, site_id_code=site_id_code,
                          index_no=index_no, year=year)
    if own is None:
        for label, code in given:
            within = resolve_names(agency, context, year=year, within=code)
            if within is not None and _agree(within.code, code):
                finer = within.code if _inside(within.code, code) else code
                return Resolution(finer, f"{label}, refined: {within.evidence}", "given")
        if given:
            label, code = given[0]
            return Resolution(code, f"{label} (the document names no place)", "given")
        return None
    notes = []
    for label, code in given:
        if not _agree(code, own.code):
            if own.source == "text":
                return Resolution(None, f"{own.evidence}, but {label}: they disagree, no "
                                        "region stored", "text")
            notes.append(f"{label} {SET_ASIDE} {own.code}")
        elif _inside(code, own.code) and own.source == "text":
            return Resolution(code, f"{label}, inside what the {own.evidence}", "given")
        elif _inside(code, own.code):
            notes.append(f"{label} not used: the body the document names is of {own.code}")
        else:
            notes.append(f"agrees: {label}")
    return Resolution(own.code, "; ".join([own.evidence, *notes]), own.source)


#: A township's, town's or street's own name at the start of its body's (连生乡人民政府).
_TOWNSHIP = re.compile(r"^([\u4e00-\u9fff]{2,8}?(?:乡|镇|街道|苏木))(?:人民政府|办事处)?$")


def _township_placed(agency: str, opening: str, year: int | None) -> Resolution | None:
    """The county a township's text writes its name under, anywhere (地址:绥滨县连生乡连生村:
    an address, which says nothing of whose report it is, still says where the township lies),
    when the body is that township and names no place of its own."""
    own = _TOWNSHIP.match(agency)
    if not own:
        return None
    # the county's name right before the township's: a short one too (盂县东梁乡), which
    # find_places takes only after another place, since a bare two characters match prose
    counties = {place.code for found in re.finditer(re.escape(own[1]), opening)
                for length in range(2, 8) if (at := found.start()) >= length
                for place in places().get(opening[at - length:at], ())
                if place.code[4:] != "00" and _valid(place, year)}
    if len(counties) != 1:
        return None
    code = counties.pop()
    return Resolution(code, f"text writes {own[1]} under its county → {code}", "text")


#: How a text calls its own place: 我市, 本省, 我县, 我区, 本镇.
_SELF_PLACE = re.compile(r"[我本](省|市|县|区|旗|州|盟|镇|乡|街道|苏木)")


def _at_its_own_level(found: Resolution, opening: str) -> Resolution:
    """A region its running text gave, at the level the text calls itself: a city's text
    (我市, and no 我县, 我区…) that names one of its districts (天宁区政府办公室介绍了…) is the
    city's; a province's (我省) that names a city or county, the province's."""
    selves = set(_SELF_PLACE.findall(opening[:1500]))
    code = found.code
    if selves == {"省"} and code[2:] != "0000":
        return Resolution(code[:2] + "0000", f"{found.evidence}; the text calls itself 我省: "
                                             f"its province", found.source)
    if selves == {"市"} and code[4:] != "00" and \
            not any(place.name.endswith("市") for place in _by_code().get(code, ())):
        return Resolution(code[:4] + "00", f"{found.evidence}; the text calls itself 我市: "
                                           f"its city", found.source)
    return found


def _overridden(override: str, own: Resolution | None, agency: str | None, context: str,
                year: int | None) -> Resolution:
    """The user's region (``ingest --province``), refined by the document's names inside it."""
    finer = resolve_names(agency, context, year=year, within=override)
    if finer and _inside(finer.code, override):
        return Resolution(finer.code, f"configured region {override}, refined: "
                                      f"{finer.evidence}", "given")
    if own and not _agree(own.code, override):
        return Resolution(override, f"configured region {override}, {KEPT_ALTHOUGH} "
                                    f"{own.code} ({own.evidence})", "given")
    return Resolution(override, f"configured region {override}", "given")


#: A 索引号 that starts with a six-digit region code and a separator (330212/2019-00031); an
#: organisation code (01525767-7) or a 统一社会信用代码 is longer.
_INDEX_REGION = re.compile(r"(\d{6})(?:[-/—_－／]|\s)")
#: One that starts with a region code and a body's three-digit number on its platform
#: (620702077/2022-00002 and 620702081/2026-00007: two 街道 of 甘州区, on gsgz.gov.cn); nine
#: digits that are an organisation code (000014349/2017-00049, the State Council's) are not.
_INDEX_TOWNSHIP = re.compile(r"(\d{6})\d{3}(?:[-/—_－／]|\s)")

#: GB 11714 organisation codes: the weights of the eight digits before the check character.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _is_organization_code(code: str) -> bool:
    """Whether nine digits are a GB 11714 organisation code (eight, and their check digit;
    one whose check character is X is not all digits). Written here: python-stdnum checks
    the 统一社会信用代码 that embeds one, not the code alone."""
    total = sum(int(digit) * weight for digit, weight in zip(code[:8], _ORG_WEIGHTS,
                                                             strict=True))
    check = (11 - total % 11) % 11
    return check != 10 and code[8] == str(check)


@functools.cache
def _by_code() -> dict[str, list[Place]]:
    found: dict[str, list[Place]] = {}
    for named in places().values():
        for place in named:
            found.setdefault(place.code, []).append(place)
    return found


@functools.cache
def known_codes() -> frozenset[str]:
    """Every code GB/T 2260 has ever used."""
    return frozenset(_by_code())
