"""Synthetic ILMS data: the demo data set (``ilms``) and big benchmark messages (``generate``)."""

from service.demo.generate import Format, generate
from service.demo.ilms import demo_rows, flow_rows, write_demo
from service.demo.plan import Plan, generated_rows, plan
from service.demo.structures import IlmsStructures, load_structures

__all__ = [
    "Format",
    "IlmsStructures",
    "Plan",
    "demo_rows",
    "flow_rows",
    "generate",
    "generated_rows",
    "load_structures",
    "plan",
    "write_demo",
]
