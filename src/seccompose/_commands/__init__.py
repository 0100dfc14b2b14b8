"""One module per CLI sub-command (private; the CLI in ``seccompose.cli`` is the public face).

Each module defines:

- ``HELP``: one line for ``seccompose --help``;
- ``EXAMPLES``: text shown at the end of ``seccompose CMD --help`` (real, runnable examples);
- ``configure(parser: argparse.ArgumentParser) -> None``: adds the command's arguments;
- ``run(args: argparse.Namespace) -> int``: does the work and returns the exit code.

Modules import heavy things (pydantic, libseccomp) inside ``run`` so that building the
parser stays fast. Errors are raised as ``SeccomposeError`` and turned into exit code 2 by
``seccompose.cli.main``.
"""

__all__: list[str] = []
