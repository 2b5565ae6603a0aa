"""The `pystream` command: one group, a sub-command per tool."""

from __future__ import annotations

import click

from pystream import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pystream")
def main() -> None:
    """pystream: a Kafka-compatible event streaming platform."""


if __name__ == "__main__":
    main()
