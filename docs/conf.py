"""Sphinx configuration of the axis-simulator documentation.

Build with warnings as errors (the test suite does the same, ``tests/test_docs.py``)::

    python -m sphinx -W -b html docs docs/_build/html
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import simulator  # noqa: E402  (the installed package: pip install -e ".[docs]")

project = "axis-simulator"
author = "axis-simulator contributors"
copyright = "2026, axis-simulator contributors"
release = version = simulator.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinxarg.ext",
    "axisdocs",  # docs/_ext/axisdocs.py: the scenario reference (from simulator.scenario.json_schema()), MathML equations
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store"]
language = "en"

# No typographic quotes or dashes: the option help of the CLI reference and the key descriptions of the scenario
# reference are plain text from the program, and "--set" must not become "–set" nor "auto" become “auto”.
smartquotes = False

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
# pydantic's class attributes (model_config, ...) are machinery, not the scenario format; members in the order
# of the source, which goes from the smallest parts to the whole
autodoc_default_options = {"members": True,
                           "exclude-members": "model_config, model_fields, model_computed_fields, model_post_init"}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc states the types in the Parameters section
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
# Type words in docstrings that are prose, not cross-references
numpydoc_xref_param_type = False


# Equations are rendered to MathML at build time (docs/_ext/axisdocs.py, latex2mathml), not by MathJax,
# which would be fetched from a CDN: the site reads offline, and no page loads a script from the network.
html_math_renderer = "mathml"

html_theme = "alabaster"
html_title = f"axis-simulator {release}"
html_static_path = ["_static"]
html_css_files = ["axis.css"]  # fonts with the Vietnamese letters, the reference tables at the page's width
html_theme_options = {"page_width": "1180px", "sidebar_width": "240px"}
templates_path = ["_templates"]
suppress_warnings = ["myst.header", "ref.citation"]  # numpydoc References a module docstring lists without citing
