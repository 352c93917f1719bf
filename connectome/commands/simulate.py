"""``connectome simulate``: write a synthetic CNEA recording and its ground truth."""

from __future__ import annotations

import click

COMMANDS = []
