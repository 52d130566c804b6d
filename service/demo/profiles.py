"""Rough, public-knowledge orders of magnitude for the ten ASEAN Member States (demo only)."""

# Nothing here is an official statistic: these are round figures chosen so that the synthetic
# demo looks plausible (population sizes, migrant shares, wage levels in local currency,
# migration corridors). The demo labels every observation it makes from them as synthetic.

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Variant(StrEnum):
    """How a country identifies migrants: by place of birth, or by citizenship."""

    BIRTH = "birth"
    CITIZENSHIP = "citizenship"


@dataclass(frozen=True, slots=True)
class Profile:
    """A country's round figures for 2010 and their yearly growth."""

    iso3: str
    #: Population of all ages, thousands, and its yearly growth.
    population: float
    growth: float
    #: Share of the population aged 15 and over.
    adults: float
    #: Labour force participation and unemployment rates of the population 15+.
    participation: float
    unemployment: float
    #: Foreign-born share of the population 15+; non-citizens per foreign-born person.
    foreign: float
    noncitizen_ratio: float
    #: Share of women among immigrants / among nationals who emigrate.
    migrant_women: float
    emigrant_women: float
    variants: tuple[Variant, ...]
    #: 0 (least) to 1 (most developed): tilts the education, occupation and status mixes.
    development: float
    #: Share of employment in agriculture.
    agriculture: float
    #: Mean monthly earnings of employees, local currency, and nominal yearly growth.
    wage: int
    wage_growth: float
    #: Migrants' mean earnings relative to everyone's.
    migrant_wage: float
    #: Immigrants 15+ entering in a year, per foreign-born person 15+ living there.
    inflow_rate: float
    #: Nationals living abroad (thousands), its yearly growth, and the share leaving each year.
    abroad: float
    abroad_growth: float
    outflow_rate: float
    #: Share of those leaving who leave for employment.
    for_work: float


_B = (Variant.BIRTH,)
_C = (Variant.CITIZENSHIP,)
_BOTH = (Variant.BIRTH, Variant.CITIZENSHIP)

#: Fields in order: iso3, population, growth, adults, participation, unemployment, foreign,
#: noncitizen_ratio, migrant_women, emigrant_women, variants, development, agriculture, wage,
#: wage_growth, migrant_wage, inflow_rate, abroad, abroad_growth, outflow_rate, for_work.
PROFILES: dict[str, Profile] = {
    p.iso3: p
    for p in (
        Profile("BRN", 390, 0.012, 0.75, 0.63, 0.07, 0.28, 0.85, 0.35, 0.50, _C, 0.80, 0.02,
                1_800, 0.015, 0.70, 0.10, 45, 0.01, 0.05, 0.40),
        Profile("KHM", 14_300, 0.014, 0.68, 0.80, 0.01, 0.006, 0.85, 0.45, 0.45, _B, 0.20, 0.45,
                600_000, 0.07, 1.60, 0.15, 1_100, 0.04, 0.08, 0.80),
        Profile("IDN", 242_000, 0.011, 0.71, 0.67, 0.05, 0.0015, 0.80, 0.40, 0.60, _C, 0.40, 0.36,
                1_500_000, 0.06, 2.00, 0.15, 4_000, 0.02, 0.12, 0.85),
        Profile("LAO", 6_300, 0.015, 0.65, 0.75, 0.02, 0.008, 0.85, 0.45, 0.50, _B, 0.20, 0.65,
                1_000_000, 0.06, 1.50, 0.15, 1_200, 0.02, 0.08, 0.80),
        Profile("MYS", 28_200, 0.014, 0.74, 0.66, 0.033, 0.11, 0.90, 0.35, 0.50, _BOTH, 0.65,
                0.12, 2_100, 0.045, 0.60, 0.10, 1_700, 0.02, 0.05, 0.40),
        Profile("MMR", 50_600, 0.008, 0.72, 0.62, 0.02, 0.0015, 0.80, 0.40, 0.40, _B, 0.15, 0.50,
                150_000, 0.08, 1.80, 0.15, 3_000, 0.03, 0.10, 0.80),
        Profile("PHL", 94_000, 0.016, 0.67, 0.60, 0.05, 0.002, 0.75, 0.45, 0.55, _B, 0.40, 0.33,
                11_000, 0.04, 1.70, 0.15, 5_400, 0.02, 0.30, 0.90),
        Profile("SGP", 5_080, 0.012, 0.85, 0.68, 0.03, 0.45, 0.85, 0.45, 0.50, _C, 1.00, 0.01,
                4_000, 0.035, 0.80, 0.10, 300, 0.01, 0.05, 0.40),
        Profile("THA", 67_200, 0.003, 0.80, 0.67, 0.01, 0.055, 0.90, 0.45, 0.30, _BOTH, 0.50, 0.38,
                11_000, 0.03, 0.60, 0.10, 900, 0.02, 0.05, 0.70),
        Profile("VNM", 87_400, 0.010, 0.76, 0.76, 0.02, 0.001, 0.90, 0.40, 0.35, _C, 0.40, 0.48,
                3_500_000, 0.07, 1.80, 0.15, 2_600, 0.03, 0.05, 0.70),
    )
}  # fmt: skip

#: The reporting countries, in the ILMS order.
REPORTERS: tuple[str, ...] = ("BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM")
FIRST_YEAR, LAST_YEAR = 2010, 2024

#: Countries of origin shown for immigrants: the other ASEAN states and the main others.
ORIGINS: tuple[str, ...] = (*REPORTERS, "CHN", "IND", "BGD", "NPL", "PAK", "KOR", "JPN", "USA")
#: Countries of residence or destination shown for emigrants.
DESTINATIONS: tuple[str, ...] = (
    *REPORTERS, "SAU", "ARE", "QAT", "KWT", "KOR", "JPN", "HKG", "TWN", "USA", "AUS",
)  # fmt: skip
#: The weight of a partner the corridors below do not name.
OTHER_PARTNER = 0.3
#: The share of "other countries" (the remainder code ``_X``) among all partners.
REMAINDER_SHARE = 0.05

#: Where a country's immigrants come from (relative weights).
ORIGIN_WEIGHTS: dict[str, dict[str, float]] = {
    "BRN": {"IDN": 30, "MYS": 25, "PHL": 25, "THA": 5, "IND": 6, "BGD": 6, "CHN": 3},
    "KHM": {"VNM": 45, "THA": 20, "CHN": 15, "KOR": 3, "JPN": 2, "USA": 2, "LAO": 2},
    "IDN": {"CHN": 25, "MYS": 10, "KOR": 10, "JPN": 10, "SGP": 8, "IND": 8, "PHL": 6, "USA": 5},
    "LAO": {"THA": 35, "VNM": 30, "CHN": 25, "KHM": 3, "MMR": 2},
    "MYS": {"IDN": 45, "BGD": 12, "NPL": 12, "MMR": 8, "IND": 7, "PHL": 6, "VNM": 3, "CHN": 3},
    "MMR": {"CHN": 45, "THA": 15, "IND": 15, "KOR": 5, "JPN": 5, "BGD": 3},
    "PHL": {"USA": 25, "CHN": 20, "JPN": 10, "KOR": 10, "IND": 5, "IDN": 5, "MYS": 3},
    "SGP": {"MYS": 45, "CHN": 25, "IND": 12, "IDN": 5, "PHL": 5, "BGD": 3, "MMR": 2},
    "THA": {"MMR": 55, "KHM": 20, "LAO": 15, "CHN": 4, "VNM": 1, "JPN": 1},
    "VNM": {"CHN": 40, "KOR": 15, "JPN": 10, "USA": 8, "KHM": 8, "LAO": 5, "THA": 3},
}

#: Where a country's nationals live or go (relative weights).
DESTINATION_WEIGHTS: dict[str, dict[str, float]] = {
    "BRN": {"MYS": 40, "SGP": 20, "AUS": 10, "USA": 5},
    "KHM": {"THA": 75, "KOR": 8, "MYS": 5, "JPN": 5, "USA": 4},
    "IDN": {"MYS": 40, "SAU": 15, "TWN": 12, "HKG": 10, "SGP": 6, "ARE": 3, "JPN": 3, "KOR": 3},
    "LAO": {"THA": 90, "USA": 3, "KOR": 2, "JPN": 1},
    "MYS": {"SGP": 65, "AUS": 8, "BRN": 5, "USA": 5, "JPN": 2, "HKG": 2},
    "MMR": {"THA": 70, "MYS": 15, "SGP": 4, "JPN": 3, "KOR": 3, "USA": 1},
    "PHL": {"SAU": 22, "USA": 18, "ARE": 15, "HKG": 6, "SGP": 6, "QAT": 6, "KWT": 6, "JPN": 5},
    "SGP": {"MYS": 25, "AUS": 20, "USA": 15, "HKG": 6, "JPN": 5, "THA": 3, "IDN": 3},
    "THA": {"KOR": 15, "TWN": 15, "USA": 15, "JPN": 10, "AUS": 8, "MYS": 6, "SGP": 5},
    "VNM": {"JPN": 25, "TWN": 25, "USA": 15, "KOR": 12, "AUS": 4, "MYS": 3, "LAO": 3},
}

# Mixes of the classifications (relative weights per code item), and how over-represented
# migrants are in each item (affinity: 1 is "as everyone").
AGE_MIX: dict[str, tuple[float, ...]] = {  # items Y15-24, Y25-54, Y55-64, YGE65
    "MST_TEMP_NB": (0.14, 0.70, 0.12, 0.04),
    "MST_TUNE_NB": (0.45, 0.48, 0.05, 0.02),
    "MST_TEIP_NB": (0.35, 0.25, 0.12, 0.28),
}
AGE_AFFINITY = (0.9, 1.3, 0.6, 0.4)
#: ISIC Rev.4 sections outside agriculture (A is set by the country's agriculture share).
ECO_MIX: dict[str, float] = {
    "B": 0.01, "C": 0.20, "D": 0.005, "E": 0.005, "F": 0.09, "G": 0.22, "H": 0.06, "I": 0.08,
    "J": 0.02, "K": 0.02, "L": 0.01, "M": 0.02, "N": 0.03, "O": 0.04, "P": 0.05, "Q": 0.03,
    "R": 0.01, "S": 0.03, "T": 0.03, "U": 0.0005, "X": 0.002,
}  # fmt: skip
ECO_AFFINITY: dict[str, float] = {
    "A": 1.4, "B": 1.0, "C": 1.4, "D": 0.3, "E": 0.8, "F": 2.5, "G": 0.8, "H": 0.8, "I": 1.3,
    "J": 0.6, "K": 0.5, "L": 0.6, "M": 0.8, "N": 1.4, "O": 0.1, "P": 0.3, "Q": 0.5, "R": 0.8,
    "S": 1.0, "T": 5.0, "U": 3.0, "X": 1.0,
}  # fmt: skip
#: Nationals leaving for work abroad, by ISIC Rev.4 section.
ECO_ABROAD: dict[str, float] = {
    "A": 0.10, "B": 0.01, "C": 0.25, "D": 0.002, "E": 0.003, "F": 0.18, "G": 0.04, "H": 0.05,
    "I": 0.05, "J": 0.01, "K": 0.005, "L": 0.002, "M": 0.01, "N": 0.04, "O": 0.002, "P": 0.005,
    "Q": 0.03, "R": 0.005, "S": 0.02, "T": 0.18, "U": 0.001, "X": 0.02,
}  # fmt: skip
#: ISCO-08 major groups (6 is set from agriculture); (low, high development) weights.
OCU_MIX: dict[str, tuple[float, float]] = {
    "1": (0.02, 0.12), "2": (0.04, 0.20), "3": (0.04, 0.18), "4": (0.03, 0.10),
    "5": (0.18, 0.14), "7": (0.14, 0.06), "8": (0.09, 0.07), "9": (0.25, 0.10),
    "0": (0.003, 0.005), "X": (0.002, 0.002),
}  # fmt: skip
OCU_AFFINITY: dict[str, float] = {
    "1": 0.6, "2": 0.6, "3": 0.6, "4": 0.4, "5": 1.0, "6": 1.1, "7": 1.4, "8": 1.4, "9": 2.5,
    "0": 0.05, "X": 1.0,
}  # fmt: skip
OCU_ABROAD: dict[str, float] = {
    "1": 0.01, "2": 0.05, "3": 0.05, "4": 0.03, "5": 0.15, "6": 0.07, "7": 0.15, "8": 0.12,
    "9": 0.35, "0": 0.0005, "X": 0.02,
}  # fmt: skip
#: ICSE-93 groups: (low, high development) weights.
STE_MIX: dict[str, tuple[float, float]] = {
    "1": (0.35, 0.85), "2": (0.02, 0.04), "3": (0.38, 0.08), "4": (0.002, 0.001),
    "5": (0.24, 0.02), "6": (0.008, 0.009),
}  # fmt: skip
STE_AFFINITY: dict[str, float] = {"1": 1.25, "2": 0.4, "3": 0.5, "4": 0.3, "5": 0.3, "6": 1.0}
#: ISCED 2011 levels of the population 15+ (X is no schooling): (low, high development).
EDU_MIX: dict[str, tuple[float, float]] = {
    "X": (0.08, 0.01), "0": (0.0005, 0.0005), "1": (0.30, 0.08), "2": (0.25, 0.12),
    "3": (0.22, 0.30), "4": (0.02, 0.05), "5": (0.02, 0.08), "6": (0.08, 0.25),
    "7": (0.01, 0.07), "8": (0.001, 0.01), "9": (0.005, 0.005),
}  # fmt: skip
EDU_AFFINITY: dict[str, float] = {
    "X": 1.3, "0": 1.0, "1": 1.3, "2": 1.3, "3": 0.9, "4": 0.8, "5": 0.7, "6": 0.7, "7": 0.9,
    "8": 1.0, "9": 1.0,
}  # fmt: skip
