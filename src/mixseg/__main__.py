"""``python -m mixseg``: the ``mixseg`` command line (``mixseg.cli``)."""

from mixseg.cli import main

raise SystemExit(main())
