"""Sub-commands of the ``tanlu`` CLI; each module exposes ``add_parser(subparsers)``."""
