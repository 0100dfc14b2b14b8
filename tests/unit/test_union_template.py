"""union_template: a repeated --base is the union of what each base allows for the container, nothing more."""

from __future__ import annotations

from pathlib import Path

import pytest

from seccompose import Arch, compose
from seccompose.compose import union_template
from seccompose.formats.docker_conditional import conditional_dict

DOCKER_20_10 = Path(__file__).parents[1] / "fixtures" / "reference" / "profiles" / "docker-default-20.10.24.json"
CASES = [((), "none"), (("CAP_SYS_ADMIN",), "sys_admin"), (("CAP_SYS_PTRACE", "CAP_NET_ADMIN"), "two")]


@pytest.mark.parametrize("base", ["nginx", "default", DOCKER_20_10])
@pytest.mark.parametrize(("caps", "label"), CASES)
def test_the_union_of_one_base_is_that_base(base: str | Path, caps: tuple[str, ...], label: str) -> None:
    # Before: the union template added the capability map again over a base that gates capabilities
    # itself (Docker's 20.10 default with CAP_SYS_ADMIN gained lsm_get_self_attr and friends).
    alone = compose(base, arch=Arch.X86_64, caps=caps, runtime=None)
    union = union_template([base], arch=Arch.X86_64, caps=caps)
    assert compose(union, arch=Arch.X86_64, caps=caps, runtime=None).allowed() == alone.allowed(), label


@pytest.mark.parametrize(("caps", "label"), CASES)
def test_a_union_allows_only_what_one_of_its_bases_allows(caps: tuple[str, ...], label: str) -> None:
    bases: list[str | Path] = ["redis", DOCKER_20_10]
    each = set().union(*(compose(b, arch=Arch.X86_64, caps=caps, runtime=None).allowed() for b in bases))
    union = compose(union_template(bases, arch=Arch.X86_64, caps=caps), arch=Arch.X86_64, caps=caps, runtime=None)
    assert union.allowed() <= each, label


def test_a_conditional_profile_of_one_base_given_as_a_list_is_that_of_the_base() -> None:
    # `compose --base FILE --conditional` hands conditional_dict a list of one
    one = conditional_dict(DOCKER_20_10, arch=Arch.X86_64, runtime=None)
    assert conditional_dict([DOCKER_20_10], arch=Arch.X86_64, runtime=None) == one
