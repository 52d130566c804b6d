"""ilms-sdmx: an SDMX statistical data service for the ILO ILMS database."""

__version__ = "0.1.0"
