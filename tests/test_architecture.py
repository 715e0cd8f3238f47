"""The package structure holds: the SDK stays light, layers do not import in circles."""

from __future__ import annotations

import subprocess
import sys


def test_client_import_loads_neither_sqlalchemy_nor_torch():
    code = ("import memos.client, sys; "
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'torch')]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
