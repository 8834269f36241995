"""Display names of the source documents and article numbers (for citations shown to people)."""
from __future__ import annotations

DOC_TITLES = {
    "dangzhang-2017": "《中国共产党章程》（2017年）",
    "jianchafa-2018": "《中华人民共和国监察法》（2018年）",
    "jianchafa-2024": "《中华人民共和国监察法》（2024年修正）",
    "xianfa-2018": "《中华人民共和国宪法》（2018年修正）",
    "xianfa-xiuzhengan-2018": "《中华人民共和国宪法修正案》（2018年）",
    "zhengwuchufenfa-2020": "《中华人民共和国公职人员政务处分法》",
    "jilvchufen-2023": "《中国共产党纪律处分条例》（2023年修订）",
    "jilvchufen-2018": "《中国共产党纪律处分条例》（2018年修订）",
    "lianjie-2015": "《中国共产党廉洁自律准则》",
    "jianchafashishi-2021": "《中华人民共和国监察法实施条例》（2021年）",
}
_DIGITS = "零一二三四五六七八九"


def doc_title(slug: str) -> str:
    return DOC_TITLES.get(slug, f"《{slug}》")


def int_to_chinese(number: int) -> str:
    """1 → 一, 15 → 十五, 20 → 二十, 105 → 一百零五, 143 → 一百四十三 (up to 9999)."""
    if number <= 0:
        return str(number)
    parts, zero = [], False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = number // value % 10
        if digit:
            if zero:
                parts.append("零")
            parts.append(("" if unit == "十" and number < 20 else _DIGITS[digit]) + unit)
            zero = False
        elif parts:
            zero = True
    return "".join(parts)


def article_label(article: str) -> str:
    return f"第{int_to_chinese(int(article))}条" if str(article).isdigit() else str(article)
