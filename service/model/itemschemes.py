"""Item schemes: codelists, concept schemes, category schemes and organisation schemes."""

from __future__ import annotations

from collections.abc import Iterator

from service.model.base import Item, ItemScheme, Ref, Representation


class Code(Item, frozen=True, kw_only=True, omit_defaults=True):
    """A code. ``parent`` is the parent code's id."""


class Codelist(ItemScheme, frozen=True, kw_only=True, omit_defaults=True, tag="codelist"):
    sdmx_class = "Codelist"
    package = "codelist"
    items: tuple[Code, ...] = ()


class Concept(Item, frozen=True, kw_only=True, omit_defaults=True):
    """A concept, with its core representation if it has one."""

    core_representation: Representation | None = None


class ConceptScheme(ItemScheme, frozen=True, kw_only=True, omit_defaults=True, tag="conceptscheme"):
    sdmx_class = "ConceptScheme"
    package = "conceptscheme"
    items: tuple[Concept, ...] = ()

    def references(self) -> Iterator[Ref]:
        seen: set[Ref] = set()
        for concept in self.items:
            rep = concept.core_representation
            if rep is not None and rep.enumeration is not None and rep.enumeration not in seen:
                seen.add(rep.enumeration)
                yield rep.enumeration


class Category(Item, frozen=True, kw_only=True, omit_defaults=True):
    """A category. Nested categories are flattened; ``parent`` is the parent category's id."""


class CategoryScheme(
    ItemScheme, frozen=True, kw_only=True, omit_defaults=True, tag="categoryscheme"
):
    sdmx_class = "CategoryScheme"
    package = "categoryscheme"
    items: tuple[Category, ...] = ()

    def path(self, item_id: str) -> str:
        """The dotted path of a category (``A.A1``), as category references spell it."""
        by_id = {c.id: c for c in self.items}
        parts = [item_id]
        cur = by_id.get(item_id)
        while cur is not None and cur.parent:
            parts.append(cur.parent)
            cur = by_id.get(cur.parent)
        return ".".join(reversed(parts))


class Agency(Item, frozen=True, kw_only=True, omit_defaults=True):
    """A maintenance agency."""


class AgencyScheme(ItemScheme, frozen=True, kw_only=True, omit_defaults=True, tag="agencyscheme"):
    """An agency scheme. SDMX fixes its id as ``AGENCIES`` and its version as ``1.0``."""

    sdmx_class = "AgencyScheme"
    package = "base"
    items: tuple[Agency, ...] = ()


class DataProvider(Item, frozen=True, kw_only=True, omit_defaults=True):
    """A data provider (for ILMS: a national focal point)."""


class DataProviderScheme(
    ItemScheme, frozen=True, kw_only=True, omit_defaults=True, tag="dataproviderscheme"
):
    """A data provider scheme. SDMX fixes its id as ``DATA_PROVIDERS`` and version ``1.0``."""

    sdmx_class = "DataProviderScheme"
    package = "base"
    items: tuple[DataProvider, ...] = ()
