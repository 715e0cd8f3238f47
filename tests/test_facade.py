"""MemOS and Client are one facade: every call of the SDK exists on the kernel, alike."""

from __future__ import annotations

import inspect

import pytest

from memcube.cube import MemCube
from memos.client import Client, RemoteCube
from memos.kernel import MemOS

TRANSPORT_ONLY = {"run"}  # sends one prepared HTTP request: nothing to match in-process
SAME_THING = {"RemoteCube": "MemCube"}  # the HTTP stand-in of a kernel object
# Answers that differ on purpose: the kernel hands back the object, HTTP its description.
RETURNS_DIFFER = {
    "distill": "MemOS: the AdapterInfo; Client: its JSON fields",
    "export_cube": "MemOS: the archive's manifest; Client: the downloaded file's path",
}


def public_methods(cls) -> list[str]:
    return sorted(name for name, value in vars(cls).items()
                  if callable(value) and not name.startswith("_") and name not in TRANSPORT_ONLY)


def accepts_every_call_of(kernel, sdk) -> list[str]:
    """What keeps ``kernel`` from accepting each call ``sdk`` accepts, meaning the same: the
    SDK's parameters come first, in order, by name, kind and default; the kernel's extra ones
    (``user``, progress callbacks) all have defaults; the SDK's ``**options`` may be named
    keyword-only parameters on the kernel."""
    k_params = list(inspect.signature(kernel).parameters.values())[1:]
    s_params = list(inspect.signature(sdk).parameters.values())[1:]
    problems = []
    s_named = [p for p in s_params if p.kind is not p.VAR_KEYWORD]
    k_named = [p for p in k_params if p.kind is not p.VAR_KEYWORD]
    for s_param, k_param in zip(s_named, k_named, strict=False):
        if (s_param.name, s_param.kind, s_param.default) != \
                (k_param.name, k_param.kind, k_param.default):
            problems.append(f"{s_param} != {k_param}")
    if len(k_named) < len(s_named):
        problems.append(f"missing {[str(p) for p in s_named[len(k_named):]]}")
    for extra in k_named[len(s_named):]:
        if extra.default is extra.empty:
            problems.append(f"extra parameter {extra} without a default")
    open_ended = any(p.kind in (p.VAR_KEYWORD, p.KEYWORD_ONLY) for p in k_params)
    if any(p.kind is p.VAR_KEYWORD for p in s_params) and not open_ended:
        problems.append("no **options (nor named keyword-only options)")
    return problems


def returns(function) -> str:
    annotation = inspect.signature(function).return_annotation
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    for remote, local in SAME_THING.items():
        text = text.replace(remote, local)
    return text


@pytest.mark.parametrize("name", public_methods(Client))
def test_memos_has_every_client_call_with_the_same_signature(name):
    assert hasattr(MemOS, name), f"MemOS has no {name}"
    assert accepts_every_call_of(getattr(MemOS, name), getattr(Client, name)) == []
    if name not in RETURNS_DIFFER:
        assert returns(getattr(MemOS, name)) == returns(getattr(Client, name))


@pytest.mark.parametrize("name", public_methods(RemoteCube))
def test_memcube_has_every_remote_cube_call_with_the_same_signature(name):
    assert hasattr(MemCube, name), f"MemCube has no {name}"
    assert accepts_every_call_of(getattr(MemCube, name), getattr(RemoteCube, name)) == []
