"""The `pystream` command: one group, a sub-command per tool."""

from __future__ import annotations

import click

from pystream import __version__
from pystream.cli.bench import bench
from pystream.cli.broker import broker
from pystream.cli.consume import consume
from pystream.cli.groups import groups
from pystream.cli.nexmark import nexmark
from pystream.cli.produce import produce
from pystream.cli.topics import topics


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pystream")
def main() -> None:
    """pystream: a Kafka-compatible event streaming platform."""


for command in (broker, topics, produce, consume, groups, bench, nexmark):
    main.add_command(command)

if __name__ == "__main__":
    main()
