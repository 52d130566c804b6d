"""Base classes of the SDMX information model: annotations, references, artefacts, items."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import msgspec

#: Localised text: language tag -> text, in the order the source gave them (en, fr, es for ILO).
Localised = dict[str, str]


class Annotation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """An SDMX annotation. ``text`` is localised; ``value`` is SDMX 3.0's AnnotationValue."""

    id: str | None = None
    title: str | None = None
    type: str | None = None
    url: str | None = None
    text: Localised = msgspec.field(default_factory=dict)
    value: str | None = None


class Ref(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """A reference to a maintainable artefact, or to an item inside one.

    ``cls`` is the SDMX class name, as in SDMX-ML 2.1 ``Ref/@class`` and in URNs:
    ``Codelist``, ``ConceptScheme``, ``DataStructure``, ``Dataflow``, ``Concept``, ``Code``,
    ``Category``, ``DataProvider``, ``Agency`` ... For an item, ``id`` is the maintainable
    parent's id and ``item`` the item's id (a dotted path for nested categories).
    """

    cls: str
    agency: str
    id: str
    version: str = "1.0"
    item: str | None = None

    @property
    def maintainable_key(self) -> tuple[str, str, str]:
        return (self.agency, self.id, self.version)

    def __str__(self) -> str:
        base = f"{self.agency}:{self.id}({self.version})"
        return f"{base}.{self.item}" if self.item else base


class Item(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """An item of an item scheme (a code, a concept, a category, an organisation)."""

    id: str
    names: Localised = msgspec.field(default_factory=dict)
    descriptions: Localised = msgspec.field(default_factory=dict)
    annotations: tuple[Annotation, ...] = ()
    parent: str | None = None


class MaintainableArtefact(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, tag_field="type", gc=False
):
    """Anything with an agency, an id and a version.

    ``is_final`` is SDMX 2.1's ``isFinal``; in SDMX 3.0 a version without a pre-release
    extension (``1.0``, ``1.2.0``) is final and ``-draft`` style extensions are not.
    """

    #: SDMX class name, as used in URNs and in SDMX-ML 2.1 ``Ref/@class``.
    sdmx_class: ClassVar[str] = ""
    #: The URN package (``codelist``, ``datastructure``...).
    package: ClassVar[str] = ""

    agency: str
    id: str
    version: str = "1.0"
    names: Localised = msgspec.field(default_factory=dict)
    descriptions: Localised = msgspec.field(default_factory=dict)
    annotations: tuple[Annotation, ...] = ()
    is_final: bool = True
    valid_from: str | None = None
    valid_to: str | None = None
    #: Written as a stub (SDMX REST ``detail=*stubs``): no items or components, and
    #: ``isExternalReference="true"`` with a ``structureURL`` in SDMX-ML.
    is_stub: bool = False
    #: Where a stub's full definition can be fetched (SDMX-ML ``structureURL``).
    structure_url: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.agency, self.id, self.version)

    @property
    def urn(self) -> str:
        from service.model.urn import urn  # service.model.urn builds on this module

        return urn(self.sdmx_class, self.agency, self.id, self.version)

    def ref(self) -> Ref:
        return Ref(cls=self.sdmx_class, agency=self.agency, id=self.id, version=self.version)

    def references(self) -> Iterator[Ref]:
        """The artefacts this one refers to (its children in SDMX REST terms)."""
        return iter(())


class ItemScheme(MaintainableArtefact, frozen=True, kw_only=True, omit_defaults=True):
    """A maintainable list of items. Subclasses narrow ``items``."""

    items: tuple[Item, ...] = ()
    is_partial: bool = False

    def item(self, item_id: str) -> Item | None:
        for it in self.items:
            if it.id == item_id:
                return it
        return None


class Representation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """How a component or concept is represented: coded (``enumeration``) or a text format.

    ``text_type`` is the SDMX data type (``String``, ``ObservationalTimePeriod``, ``Double``...);
    ``facets`` holds the remaining TextFormat facets by their SDMX-ML attribute name
    (``maxLength``, ``minValue``, ``pattern``, ``isSequence``...).
    """

    enumeration: Ref | None = None
    text_type: str | None = None
    facets: dict[str, str] = msgspec.field(default_factory=dict)
