"""LinkPattern fills a reversed URL per row: it must give what reverse() gives."""

from __future__ import annotations

import pytest
from django.urls import reverse

from nautes_portal.links import LinkPattern

NAMES = ["shop", "nautes-labs", "dr.dev-1", "with space", "ünïcode", "100%", "a:b@c~d", "x?y#z"]


@pytest.mark.parametrize("name", NAMES)
def test_a_filled_link_is_what_reverse_gives(name: str) -> None:
    assert LinkPattern("product-deployments", 1).fill(name) == reverse(
        "product-deployments", args=[name]
    )
    runtime = LinkPattern("runtime-status", 2)
    assert runtime.fill(name, "dr-dev") == reverse("runtime-status", args=[name, "dr-dev"])
    assert runtime.fill("shop", name) == reverse("runtime-status", args=["shop", name])


def test_an_argument_stays_one_path_segment_and_markers_in_values_stay_text() -> None:
    runtime = LinkPattern("runtime-status", 2)
    assert runtime.fill("a/b", "__link_arg_0__") == "/products/a%2Fb/deployments/__link_arg_0__/"
    with pytest.raises(TypeError, match="expected 2 arguments, got 1"):
        runtime.fill("shop")
