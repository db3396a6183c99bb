"""mixseg: mixed-supervision segmentation (teacher/student dual-branch networks)."""

__version__ = "0.1.0"
