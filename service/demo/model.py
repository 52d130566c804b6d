"""The synthetic ILMS figures of one country and year, as exact integer cubes."""

# Persons are counted in units of 100 (0.1 thousand: the demo's one decimal in thousands), so
# every total is an exact sum of its parts. The finest cells come first; ``aggregate`` then
# adds every total. Figures shared by several tables are computed once (the margins by sex and
# migrant status per measure, the flows by sex) and each table spreads them over its own
# classification with ``cross``, so all of them show the same totals.

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, cached_property

from service.demo.allocate import cross, split, split_capped
from service.demo.profiles import (
    AGE_AFFINITY,
    AGE_MIX,
    DESTINATION_WEIGHTS,
    ECO_ABROAD,
    ECO_AFFINITY,
    ECO_MIX,
    EDU_AFFINITY,
    EDU_MIX,
    FIRST_YEAR,
    OCU_ABROAD,
    OCU_AFFINITY,
    OCU_MIX,
    ORIGIN_WEIGHTS,
    OTHER_PARTNER,
    PROFILES,
    REMAINDER_SHARE,
    STE_AFFINITY,
    STE_MIX,
    Variant,
)

#: Detailed cells: a tuple of items (``("M", "Y15-24", "FOREIGN")``) -> persons or currency.
Cube = dict[tuple[str, ...], int]
Margins = dict[str, dict[str, int]]  # sex -> status item -> persons

SEXES = ("M", "F")
#: The item of each classification's codes the demo shows (a partition of its total).
ITEMS: dict[str, tuple[str, ...]] = {
    "AGE": ("Y15-24", "Y25-54", "Y55-64", "YGE65"),
    "EDU": ("X", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
    "ECO": tuple("ABCDEFGHIJKLMNOPQRSTU") + ("X",),
    "OCU": ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "X"),
    "STE": ("1", "2", "3", "4", "5", "6"),
}
#: Migrant status items: everyone else, migrants, status unknown.
STATUS: dict[Variant, tuple[str, str, str]] = {
    Variant.BIRTH: ("NATIVE", "FOREIGN", "X"),
    Variant.CITIZENSHIP: ("CITIZEN", "NONCIT", "X"),
}
BASE_MEASURES = ("MST_TEMP_NB", "MST_TUNE_NB", "MST_TEIP_NB")
#: Measures that are sums of others: labour force, working-age population.
DERIVED: dict[str, tuple[str, ...]] = {
    "MST_TEAP_NB": ("MST_TEMP_NB", "MST_TUNE_NB"),
    "MST_XWAP_NB": ("MST_TEMP_NB", "MST_TUNE_NB", "MST_TEIP_NB"),
}
REMAINDER = "X"
_UNKNOWN_SHARE = 0.0005
_CHILDREN = 0.12  # migrants under 15 per migrant aged 15+ (tables 3 and 9 are all ages)
#: COVID-19: flows of 2020-2022 relative to trend; returns rose as people came home.
_FLOW_SHOCK = {2020: 0.35, 2021: 0.55, 2022: 0.9}
_RETURN_SHOCK = {2020: 1.8, 2021: 1.2}
_AFFINITIES: dict[str, Mapping[str, float]] = {
    "AGE": dict(zip(ITEMS["AGE"], AGE_AFFINITY, strict=True)),
    "EDU": EDU_AFFINITY,
    "ECO": ECO_AFFINITY,
    "OCU": OCU_AFFINITY,
    "STE": STE_AFFINITY,
}


def aggregate(cube: Cube, totals: Sequence[str]) -> Cube:
    """``cube`` with every total added: position ``i`` of a key may also be ``totals[i]``."""
    result = dict(cube)
    for axis, total in enumerate(totals):
        sums: defaultdict[tuple[str, ...], int] = defaultdict(int)
        for key, value in result.items():
            sums[(*key[:axis], total, *key[axis + 1 :])] += value
        result.update(sums)
    return result


def wobble(scale: float, *parts: object) -> float:
    """A deterministic factor near 1: 1 + scale x a normal draw (within 2.5 sd) seeded by
    ``parts``, so a figure never depends on what else was computed before it."""
    return 1.0 + scale * max(-2.5, min(2.5, normal_draw("ilms-demo", *parts)))


def normal_draw(*parts: object) -> float:
    """A standard normal number from a hash of ``parts`` (Box-Muller): the same in every run."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest()
    u1 = (int.from_bytes(digest[:8], "big") + 1) / 2.0**64
    u2 = int.from_bytes(digest[8:], "big") / 2.0**64
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@cache
def country_year(iso3: str, year: int) -> CountryYear:
    """The (cached) figures of one country and year."""
    return CountryYear(iso3, year)


class CountryYear:
    """Every synthetic figure of one reporting country for one year."""

    def __init__(self, iso3: str, year: int) -> None:
        self.iso3 = iso3
        self.year = year
        self.profile = PROFILES[iso3]
        self.t = year - FIRST_YEAR
        self._rows: dict[tuple[str, str, str], list[int]] = {}

    def _wobble(self, scale: float, *parts: object) -> float:
        return wobble(scale, self.iso3, self.year, *parts)

    # -- module A: stocks -------------------------------------------------------------------

    @cached_property
    def adults(self) -> dict[str, int]:
        """The population aged 15 and over, by sex."""
        p = self.profile
        share = min(0.95, p.adults + 0.003 * self.t)
        total = p.population * (1 + p.growth) ** self.t * share * self._wobble(0.003, "adults")
        return dict(zip(SEXES, split(round(total * 10), [0.495, 0.505]), strict=True))

    @cached_property
    def birth(self) -> Margins:
        """The population 15+ by sex and place of birth."""
        p = self.profile
        share = p.foreign * (1 + 0.02 * self.t) * self._wobble(0.01, "foreign")
        migrants = round(sum(self.adults.values()) * share)
        foreign = split(migrants, [1 - p.migrant_women, p.migrant_women])
        out: Margins = {}
        for sex, migrants in zip(SEXES, foreign, strict=True):
            unknown = round(self.adults[sex] * _UNKNOWN_SHARE)
            native = self.adults[sex] - migrants - unknown
            out[sex] = {"NATIVE": native, "FOREIGN": migrants, "X": unknown}
        return out

    @cached_property
    def _base_margins(self) -> dict[str, dict[Variant, Margins]]:
        """Employed, unemployed, outside the labour force: by sex and each migrant status."""
        by_measure: dict[str, Margins] = {m: {} for m in BASE_MEASURES}
        for sex, statuses in self.birth.items():
            for item, persons in statuses.items():
                figures = self._labour(persons, sex, item)
                for measure, value in zip(BASE_MEASURES, figures, strict=True):
                    by_measure[measure].setdefault(sex, {})[item] = value
        return {
            m: {Variant.BIRTH: birth, Variant.CITIZENSHIP: self._citizenship(m, birth)}
            for m, birth in by_measure.items()
        }

    def _labour(self, persons: int, sex: str, item: str) -> tuple[int, int, int]:
        p = self.profile
        rate = p.participation * (1.18 if sex == "M" else 0.82)
        unemployment = p.unemployment * self._wobble(0.08, "unemployment", sex)
        if item == "FOREIGN":
            rate *= 1.2 if p.foreign > 0.03 else 1.05
            unemployment *= 0.8
        active = round(persons * min(0.95, rate) * self._wobble(0.01, "participation", sex, item))
        unemployed = round(active * unemployment)
        return active - unemployed, unemployed, persons - active

    def _citizenship(self, measure: str, birth: Margins) -> Margins:
        """Margins by citizenship with the same totals as by place of birth."""
        ratio = self.profile.noncitizen_ratio
        out: Margins = {}
        for sex, statuses in birth.items():
            total = sum(statuses.values())
            unknown = round(total * _UNKNOWN_SHARE)
            noncit = round(statuses["FOREIGN"] * ratio * self._wobble(0.02, "noncit", measure, sex))
            noncit = min(noncit, total - unknown)
            out[sex] = {"CITIZEN": total - noncit - unknown, "NONCIT": noncit, "X": unknown}
        return out

    def margins(self, measure: str, variant: Variant) -> Margins:
        """A stock measure by sex and migrant status (labour force and population are sums)."""
        parts = DERIVED.get(measure, (measure,))
        out: Margins = {}
        for sex in SEXES:
            out[sex] = {
                item: sum(self._base_margins[m][variant][sex][item] for m in parts)
                for item in STATUS[variant]
            }
        return out

    def _totals(self, measure: str, sex: str, classification: str) -> list[int]:
        """A measure's total for one sex spread over a classification (same for every variant)."""
        cached = self._rows.get((measure, sex, classification))
        if cached is None:
            total = sum(self.margins(measure, Variant.BIRTH)[sex].values())
            mix = self.mix(classification, measure)
            cached = split(total, [mix[item] for item in ITEMS[classification]])
            self._rows[measure, sex, classification] = cached
        return cached

    def stock(self, measure: str, classification: str | None, variant: Variant) -> Cube:
        """Cells (sex, [classification item,] status item) of a stock measure."""
        if classification is None:
            margins = self.margins(measure, variant)
            return {(sex, item): v for sex, row in margins.items() for item, v in row.items()}
        if classification == "AGE" and measure in DERIVED:
            return _sum_cubes(self.stock(m, "AGE", variant) for m in DERIVED[measure])
        rest, migrants, unknown = STATUS[variant]
        items = ITEMS[classification]
        affinity = [_AFFINITIES[classification][item] for item in items]
        cube: Cube = {}
        for sex, statuses in self.margins(measure, variant).items():
            rows = self._totals(measure, sex, classification)
            columns = cross(rows, statuses, rest, {migrants: affinity, unknown: [1.0] * len(rows)})
            for status, cells in columns.items():
                cube.update(((sex, item, status), v) for item, v in zip(items, cells, strict=True))
        return cube

    def mix(self, classification: str, measure: str = "") -> dict[str, float]:
        """How a total spreads over a classification's items, this year, in this country."""
        if classification == "AGE":
            return dict(zip(ITEMS["AGE"], AGE_MIX[measure], strict=True))
        d = min(1.0, self.profile.development + 0.01 * self.t)
        if classification == "ECO":
            return self._with_agriculture("A", ECO_MIX)
        if classification == "OCU":
            return self._with_agriculture("6", _between(OCU_MIX, d))
        return _between(EDU_MIX if classification == "EDU" else STE_MIX, d)

    def _with_agriculture(self, item: str, others: Mapping[str, float]) -> dict[str, float]:
        farming = self.profile.agriculture * (1 - 0.025 * self.t) * self._wobble(0.02, "farm")
        scale = (1 - farming) / sum(others.values())
        mix = {k: w * scale * self._wobble(0.03, "mix", item, k) for k, w in others.items()}
        return {item: farming, **mix}

    # -- module A: wages and countries of origin -----------------------------------------------

    def wages(self, variant: Variant) -> Cube:
        """Mean monthly earnings by sex (T too) and status (TOTAL too), employment-weighted."""
        p = self.profile
        level = p.wage * (1 + p.wage_growth) ** self.t * self._wobble(0.01, "wage")
        ratio = dict(zip(STATUS[variant], (1.0, p.migrant_wage, 0.95), strict=True))
        counts = self.margins("MST_TEMP_NB", variant)
        means: dict[tuple[str, str], float] = {}
        for sex, gap in zip(SEXES, (1.08, 0.91), strict=True):
            n = counts[sex]
            scale = level * gap * sum(n.values()) / sum(ratio[i] * n[i] for i in n)
            means.update({(sex, item): scale * ratio[item] for item in n})
            means[sex, "TOTAL"] = level * gap
        for item in (*STATUS[variant], "TOTAL"):
            weights = [_count(counts, sex, item) for sex in SEXES]
            values = [means[sex, item] for sex in SEXES]
            means["T", item] = _weighted_mean(values, weights)
        return {key: round(value) for key, value in means.items()}

    def migrants(self, variant: Variant, employed: bool) -> dict[str, int]:
        """Migrants (all ages, or employed) by sex: tables 3 and 4's totals."""
        migrant = STATUS[variant][1]
        if employed:
            margins = self.margins("MST_TEMP_NB", variant)
            return {sex: margins[sex][migrant] for sex in SEXES}
        adults = self.margins("MST_XWAP_NB", variant)
        return {sex: round(adults[sex][migrant] * (1 + _CHILDREN)) for sex in SEXES}

    def by_origin(self, variant: Variant, employed: bool, partners: tuple[str, ...]) -> Cube:
        """Migrants (all ages, or employed) by sex and country of origin (``X``: others)."""
        weights = self.partner_weights("origin", partners)
        everyone = _spread(self.migrants(variant, False), weights)
        if not employed:
            return _cells(everyone, partners)
        return _cells(_spread(self.migrants(variant, True), weights, everyone), partners)

    def partner_weights(self, direction: str, partners: Sequence[str]) -> list[float]:
        """Weights of ``partners`` and, last, of the remainder (other countries)."""
        table = (ORIGIN_WEIGHTS if direction == "origin" else DESTINATION_WEIGHTS)[self.iso3]
        weights = []
        for partner in partners:
            trend = wobble(0.03, self.iso3, direction, partner, "trend") - 1
            base = table.get(partner, OTHER_PARTNER) * (1 + trend * (self.year - 2017))
            weights.append(max(0.01, base * self._wobble(0.04, direction, partner)))
        return [*weights, sum(weights) * REMAINDER_SHARE / (1 - REMAINDER_SHARE)]

    # -- module B: inflows ------------------------------------------------------------------

    @cached_property
    def inflows(self) -> dict[str, dict[str, int]]:
        """Inflows by sex: working-age foreign-born (fb), non-citizens (nc), returning nationals
        (native, citizen), all ages (fb_all, nc_all) and employed (femp, nemp)."""
        p = self.profile
        shock = _FLOW_SHOCK.get(self.year, 1.0)
        out: dict[str, dict[str, int]] = {}
        for sex in SEXES:
            rate = p.inflow_rate * shock * self._wobble(0.05, "in", sex)
            fb = round(self.birth[sex]["FOREIGN"] * rate)
            native = round(self.abroad["returns"][sex] * 0.9)
            nc = min(round(fb * p.noncitizen_ratio), fb + native)
            out[sex] = {
                "fb": fb, "nc": nc, "native": native, "citizen": fb + native - nc,
                "fb_all": round(fb * (1 + _CHILDREN)), "nc_all": round(nc * (1 + _CHILDREN)),
                "femp": round(fb * 0.7), "nemp": round(nc * 0.7),
            }  # fmt: skip
        return out

    def inflow(self, quantity: str) -> dict[str, int]:
        return {sex: self.inflows[sex][quantity] for sex in SEXES}

    def inflow_by_origin(
        self, quantity: str, partners: tuple[str, ...], nationals: str | None = None
    ) -> Cube:
        """Inflows by sex and country of origin; ``nationals`` (the reporter's own code, for the
        working-age inflows of table 9) holds its returning nationals."""
        weights = self.partner_weights("origin", partners)
        everyone = _spread(self.inflow(f"{quantity}_all"), weights)
        if nationals is None:
            return _cells(everyone, partners)
        cube = _cells(_spread(self.inflow(quantity), weights, everyone), partners)
        home = self.inflow("native" if quantity == "fb" else "citizen")
        cube.update({(sex, nationals): home[sex] for sex in SEXES})
        return cube

    def inflow_by(self, quantity: str, classification: str) -> Cube:
        mix = self.mix(classification)
        affinity = _AFFINITIES[classification]
        weights = [mix[item] * affinity[item] for item in ITEMS[classification]]
        return _cells(_spread(self.inflow(quantity), weights), ITEMS[classification])

    # -- module C: nationals abroad ---------------------------------------------------------

    @cached_property
    def abroad(self) -> dict[str, dict[str, int]]:
        """Nationals abroad (stock), leaving, leaving for work, and returning: by sex."""
        p = self.profile
        stock = p.abroad * (1 + p.abroad_growth) ** self.t * self._wobble(0.01, "abroad") * 10
        by_sex = split(round(stock), [1 - p.emigrant_women, p.emigrant_women])
        out: dict[str, dict[str, int]] = {"stock": {}, "leaving": {}, "for_work": {}, "returns": {}}
        for sex, persons in zip(SEXES, by_sex, strict=True):
            figures = (persons, *self._moves(sex, persons))
            for key, value in zip(out, figures, strict=True):
                out[key][sex] = value
        return out

    def _moves(self, sex: str, abroad: int) -> tuple[int, int, int]:
        """Nationals leaving, leaving for work and returning in the year, from those abroad."""
        p = self.profile
        shock = _FLOW_SHOCK.get(self.year, 1.0)
        leaving = round(abroad * p.outflow_rate * shock * self._wobble(0.05, "out", sex))
        for_work = round(leaving * p.for_work)
        back = for_work * 0.6 * _RETURN_SHOCK.get(self.year, 1.0)
        return leaving, for_work, round(back * self._wobble(0.05, "back", sex))

    def abroad_by_partner(self, quantity: str, partners: tuple[str, ...]) -> Cube:
        """Nationals abroad, leaving, leaving for work or returning, by country (``X``: others)."""
        weights = self.partner_weights("destination", partners)
        if quantity != "for_work":
            return _cells(_spread(self.abroad[quantity], weights), partners)
        leaving = _spread(self.abroad["leaving"], weights)
        return _cells(_spread(self.abroad["for_work"], weights, leaving), partners)

    def abroad_by(self, classification: str) -> Cube:
        """Nationals leaving for work, by economic activity or occupation."""
        mix = ECO_ABROAD if classification == "ECO" else OCU_ABROAD
        items = ITEMS[classification]
        weights = [mix[item] * self._wobble(0.1, "abroad-mix", item) for item in items]
        return _cells(_spread(self.abroad["for_work"], weights), items)


def _between(mixes: Mapping[str, tuple[float, float]], development: float) -> dict[str, float]:
    return {k: low + (high - low) * development for k, (low, high) in mixes.items()}


def _count(counts: Margins, sex: str, item: str) -> int:
    return sum(counts[sex].values()) if item == "TOTAL" else counts[sex][item]


def _weighted_mean(values: Sequence[float], weights: Sequence[int]) -> float:
    mass = sum(weights)
    if mass <= 0:
        return sum(values) / len(values)
    return sum(v * w for v, w in zip(values, weights, strict=True)) / mass


def _spread(
    totals: Mapping[str, int],
    weights: Sequence[float],
    caps: Mapping[str, Sequence[int]] | None = None,
) -> dict[str, list[int]]:
    """Each sex's total over the weights (within ``caps``, when given)."""
    if caps is None:
        return {sex: split(totals[sex], weights) for sex in SEXES}
    return {sex: split_capped(totals[sex], weights, caps[sex]) for sex in SEXES}


def _cells(spread: Mapping[str, Sequence[int]], items: Sequence[str]) -> Cube:
    """Cells (sex, item) from a spread over ``items`` (plus ``X``, when one value more)."""
    named = list(items)
    cube: Cube = {}
    for sex, values in spread.items():
        keys = named if len(values) == len(named) else [*named, REMAINDER]
        cube.update({(sex, key): v for key, v in zip(keys, values, strict=True)})
    return cube


def _sum_cubes(cubes: Iterable[Cube]) -> Cube:
    total: defaultdict[tuple[str, ...], int] = defaultdict(int)
    for cube in cubes:
        for key, value in cube.items():
            total[key] += value
    return dict(total)
