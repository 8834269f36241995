"""The statistics of a 体检 (health check), as plain functions of numbers. No Flask, no database.

Item scores are always taken as a fraction of the item's maximum (x in [0, 1]: 1 right, 0 wrong,
0.5 a half-credited 多选), so questions worth 1 and 2 points, and several rounds with different
points, can be compared and pooled.

Random draws: every person answers a different subset of the questions. Each figure says how it
handles that:
- item figures (facility, discrimination, efficiency, option shares) are computed over the
  people who were shown the item, and no one else;
- the "rest of the paper" of a person for an item is their score on the other questions of
  their own paper, as a fraction of those questions' maximum — so papers of different make-up
  (and rounds with different maxima) give comparable rest scores;
- Cronbach's alpha is computed per round on paper *slots* (position 1, 2, … of the paper): a
  slot holds a randomly drawn question of the section at that position, so alpha by slots
  estimates the reliability of a paper drawn at random by the round's rules, which is what
  each person actually sat (`alpha_from_variances`);
- paper figures (mean, median, SD, histogram) use each person's score as a percentage of
  their own paper's maximum.

The database does the summing (quizapp.services.health); these functions turn sums into
figures, and `item_sums` / `item_analysis` compute the same sums from a small matrix in Python,
for tests and small data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import median

MIN_FLAG_N = 10            # fewer people than this: figures are shown but no flag is raised
NEAR_ZERO_DISCRIMINATION = 0.1
TOO_EASY, TOO_HARD = 0.95, 0.20
FLAG_KEY, FLAG_EASY, FLAG_HARD = "可能答案有误", "太容易", "太难"


@dataclass(frozen=True)
class ItemSums:
    """Sums over the n people shown one item: x = item score fraction, r = rest-score fraction.
    `sxr_sorted` is Σ x_(k)·r_(k) with both lists sorted ascending and paired by rank — the
    largest Σ x·r the two distributions allow, used for the discriminative efficiency."""

    n: int
    sx: float
    sxx: float
    sr: float
    srr: float
    sxr: float
    sxr_sorted: float


@dataclass(frozen=True)
class ItemStats:
    n: int
    facility: float              # mean item score / item maximum, in [0, 1]
    sd: float                    # SD of the item score fraction (population)
    discrimination: float | None  # correlation of item score with rest score; None if undefined
    efficiency: float | None     # discrimination / the largest it could be, in [-1, 1]

    @property
    def flags(self) -> list[str]:
        return item_flags(self)


def item_sums(xs: list[float], rests: list[float]) -> ItemSums:
    """The sums of one item from paired lists (one pair per person shown the item)."""
    if len(xs) != len(rests):
        raise ValueError("xs and rests differ in length")
    paired_sorted = sum(a * b for a, b in zip(sorted(xs), sorted(rests)))
    return ItemSums(len(xs), sum(xs), sum(x * x for x in xs), sum(rests), sum(r * r for r in rests),
                    sum(x * r for x, r in zip(xs, rests)), paired_sorted)


def item_statistics(s: ItemSums) -> ItemStats | None:
    """Facility, discrimination index and discriminative efficiency from an item's sums.

    - facility index = mean x (Moodle reports it ×100 %);
    - discrimination index = Pearson correlation of x with the rest score r (the person's score
      on the rest of the paper, so the item does not correlate with itself);
    - discriminative efficiency = Cov(x, r) / Cov_max(x, r), where Cov_max pairs the sorted x
      with the sorted r: how much of the discrimination the item could reach given its own
      spread and the rest scores' spread (Moodle's definition). A very easy or very hard
      item cannot reach a high correlation; its efficiency says whether it does what it can.
    Undefined figures (no spread in x or in r) are None. None for an item nobody answered."""
    if s.n == 0:
        return None
    n = s.n
    mean_x, mean_r = s.sx / n, s.sr / n
    var_x = max(0.0, s.sxx / n - mean_x * mean_x)
    var_r = max(0.0, s.srr / n - mean_r * mean_r)
    cov = s.sxr / n - mean_x * mean_r
    cov_max = s.sxr_sorted / n - mean_x * mean_r
    eps = 1e-12
    discrimination = cov / math.sqrt(var_x * var_r) if var_x > eps and var_r > eps else None
    efficiency = cov / cov_max if cov_max > eps else None
    if discrimination is not None:
        discrimination = max(-1.0, min(1.0, discrimination))
    if efficiency is not None:
        efficiency = max(-1.0, min(1.0, efficiency))
    return ItemStats(n, mean_x, math.sqrt(var_x), discrimination, efficiency)


def item_flags(stats: ItemStats) -> list[str]:
    """What an organizer should look at: a negative or near-zero discrimination (those who do
    well on the rest of the paper do no better on this item — often a wrong key), an item almost
    everyone gets right (> 95 %) or almost no one does (< 20 %). No flags below MIN_FLAG_N people."""
    if stats.n < MIN_FLAG_N:
        return []
    flags = []
    if stats.discrimination is not None and stats.discrimination < NEAR_ZERO_DISCRIMINATION:
        flags.append(FLAG_KEY)
    if stats.facility > TOO_EASY:
        flags.append(FLAG_EASY)
    elif stats.facility < TOO_HARD:
        flags.append(FLAG_HARD)
    return flags


def item_analysis(matrix: list[list[float | None]], maxima: list[float]) -> list[ItemStats | None]:
    """Item statistics of a small score matrix: rows are people, columns items, a cell is the
    points earned or None where the person was not shown the item; `maxima` are the items'
    maximum points. The rest score of a person for item i is their points on the other items
    they were shown, over those items' maximum (a person shown only item i has no rest score
    and is left out of item i)."""
    columns = []
    for i, full in enumerate(maxima):
        xs, rests = [], []
        for row in matrix:
            if row[i] is None:
                continue
            others = [(p, maxima[j]) for j, p in enumerate(row) if j != i and p is not None]
            rest_max = sum(m for _, m in others)
            if rest_max <= 0:
                continue
            xs.append(row[i] / full)
            rests.append(sum(p for p, _ in others) / rest_max)
        columns.append(item_statistics(item_sums(xs, rests)))
    return columns


def alpha_from_variances(item_variances: list[float], total_variance: float) -> float | None:
    """Cronbach's alpha, k/(k−1) · (1 − Σ var(item) / var(total)), with k = len(item_variances).
    The variances must be taken over the same people with the same denominator. None when it
    is undefined (fewer than two items, or no spread in the totals)."""
    k = len(item_variances)
    if k < 2 or total_variance <= 1e-12:
        return None
    return k / (k - 1) * (1 - sum(item_variances) / total_variance)


def cronbach_alpha(matrix: list[list[float]]) -> float | None:
    """Alpha of a complete matrix (rows people, columns items or paper slots), population variances."""
    if len(matrix) < 2:
        return None
    k = len(matrix[0])
    variances = [population_variance([row[j] for row in matrix]) for j in range(k)]
    return alpha_from_variances(variances, population_variance([sum(row) for row in matrix]))


def population_variance(values: list[float]) -> float:
    n = len(values)
    if n == 0:
        return 0.0
    mean = sum(values) / n
    return sum((v - mean) ** 2 for v in values) / n


def variance_from_sums(n: int, total: float, squares: float) -> float:
    """Population variance from n, Σv and Σv² (what a GROUP BY returns)."""
    if n == 0:
        return 0.0
    mean = total / n
    return max(0.0, squares / n - mean * mean)


@dataclass(frozen=True)
class PaperStats:
    n: int
    mean: float
    median: float
    sd: float                 # sample standard deviation (n − 1), 0 for one person
    histogram: list[int]      # counts in HISTOGRAM_BINS bins of the percentage score


HISTOGRAM_BINS = 10


def histogram(percentages: list[float], bins: int = HISTOGRAM_BINS) -> list[int]:
    """Counts of scores (0–100 %) in `bins` equal bins [0, 10), [10, 20), … [90, 100] — the last
    bin holds 100 %, so a perfect paper is counted, not dropped."""
    counts = [0] * bins
    for p in percentages:
        index = min(bins - 1, max(0, int(p * bins // 100)))
        counts[index] += 1
    return counts


def paper_statistics(percentages: list[float]) -> PaperStats | None:
    """Mean, median, SD and histogram of percentage scores; None for nobody."""
    n = len(percentages)
    if n == 0:
        return None
    mean = sum(percentages) / n
    sd = math.sqrt(sum((p - mean) ** 2 for p in percentages) / (n - 1)) if n > 1 else 0.0
    return PaperStats(n, mean, median(percentages), sd, histogram(percentages))


@dataclass(frozen=True)
class Cell:
    """An accuracy cell: the sum of item score fractions and the number of answers."""

    total: float
    answers: int

    @property
    def accuracy(self) -> float | None:
        """Mean item score fraction, in [0, 1]; None for no answers."""
        if self.answers == 0:
            return None
        return min(1.0, max(0.0, self.total / self.answers))


def accuracy_grid(rows) -> dict:
    """{unit: {column: Cell}} from (unit, column, Σ x, answers) rows — unit × document or
    unit × chapter, as the database grouped them."""
    grid: dict = {}
    for unit, column, total, answers in rows:
        grid.setdefault(unit, {})[column] = Cell(float(total or 0), int(answers or 0))
    return grid


def county_row(grid: dict) -> dict:
    """The county cell of each column: the mean of the unit cells weighted by their answers,
    which is the accuracy over every answer in the county."""
    totals: dict = {}
    for cells in grid.values():
        for column, cell in cells.items():
            total, answers = totals.get(column, (0.0, 0))
            totals[column] = (total + cell.total, answers + cell.answers)
    return {column: Cell(total, answers) for column, (total, answers) in totals.items()}


def weighted_mean(values: list[tuple[float, int]]) -> float | None:
    """Σ value·weight / Σ weight; None when the weights sum to 0."""
    weight = sum(w for _, w in values)
    if weight == 0:
        return None
    return sum(v * w for v, w in values) / weight


def option_shares(response_counts: list[tuple[object, int]], qtype: str) -> dict[str, float]:
    """The share of people choosing each option, from (whole response, count) pairs. A 多选 response
    (a list of letters) counts for every letter it holds, so shares of a 多选 need not sum to 1;
    判断 responses are True/False and are named 正确/错误; a blank response counts as 未作答."""
    n = sum(count for _, count in response_counts)
    if n == 0:
        return {}
    shares: dict[str, int] = {}
    for response, count in response_counts:
        if response is None or response == [] or response == "":
            letters = ["未作答"]
        elif qtype == "judge":
            letters = ["正确" if response is True else "错误"]
        elif isinstance(response, list):
            letters = [str(letter) for letter in response]
        else:
            letters = [str(response)]
        for letter in letters:
            shares[letter] = shares.get(letter, 0) + count
    return {letter: count / n for letter, count in sorted(shares.items())}


def most_chosen_wrong(response_counts: list[tuple[object, int]], key, qtype: str) -> tuple[str, int] | None:
    """The wrong response chosen by most people and how many chose it (ties: the first in
    sorted order). Blank responses are not a 'wrong option'. None if nobody answered wrongly."""
    wrong: dict[str, int] = {}
    for response, count in response_counts:
        if response is None or response == [] or response == "":
            continue
        if qtype == "multiple":
            if sorted(response) == sorted(key):
                continue
            label = "".join(sorted(response))
        elif qtype == "judge":
            if response is key:
                continue
            label = "正确" if response is True else "错误"
        else:
            if response == key:
                continue
            label = str(response)
        wrong[label] = wrong.get(label, 0) + count
    if not wrong:
        return None
    label = min(wrong, key=lambda name: (-wrong[name], name))
    return label, wrong[label]
