"""What a rig's coverage means for the order its cameras are given in: how much of the first camera's
view another camera sees, and whether giving that camera first would fuse more of the scene.

The fused images are on the first camera's grid; where another camera does not see it, they are the
first camera's view alone. Giving the other camera first helps only where its view lies (nearly)
inside the first's: a 5:4 thermal camera beside a 16:9 visible one is wider in neither direction
(each sees part of the scene the other does not), and swapping them leaves as much unfused. And an
infrared camera is not to be given first beside a visible one: visible first is ``defusion fuse``'s
convention (the fused images then have the visible camera's resolution; it says so otherwise).
"""

from __future__ import annotations

#: A camera that sees less of the first camera's view than this gets a note; the other way round,
#: a camera whose own view the first sees this much of would fuse (nearly) all of it given first.
LOW_COVERAGE = 0.9


def describe_coverage(index: int, sees: float, seen_back: float, infrared: bool = False) -> str | None:
    """The sentence on camera ``index`` (2 for the first camera after the first) seeing only ``sees``
    of the first camera's view (:meth:`~defusion.fusion.rig.Rig.coverage`), or None where it sees at
    least :data:`LOW_COVERAGE` of it. ``seen_back``: the share of its own view the first camera sees
    (:meth:`~defusion.fusion.rig.Rig.coverage_back`): giving it first is advised only where that
    would fuse (nearly) its whole view, and not where it is the ``infrared`` camera beside a visible
    first one (visible first is the convention); elsewhere only what is left unfused is said.

    Example:
        >>> describe_coverage(2, 0.95, 0.6) is None
        True
        >>> describe_coverage(2, 0.82, 0.84)
        "camera 2 sees 82% of camera 1's view, and camera 1 sees 84% of camera 2's: each sees part of the scene the other does not, so in either order part of the fused images is the first camera's alone (18% in this order, 16% the other way round)"
        >>> describe_coverage(2, 0.7, 1.0)
        "camera 2 sees 70% of camera 1's view: the rest of the fused images will be camera 1's alone; camera 1 sees 100% of camera 2's, so to fuse the whole view, give camera 2 first (the narrower view; the fused images then have its resolution)"
    """
    if sees >= LOW_COVERAGE:
        return None
    seen = f"camera {index} sees {100 * sees:.0f}% of camera 1's view"
    rest = "the rest of the fused images will be camera 1's alone"
    if seen_back < LOW_COVERAGE:
        return (f"{seen}, and camera 1 sees {100 * seen_back:.0f}% of camera {index}'s: each sees part of the scene "
                "the other does not, so in either order part of the fused images is the first camera's alone "
                f"({100 * (1 - sees):.0f}% in this order, {100 * (1 - seen_back):.0f}% the other way round)")
    if infrared:
        return (f"{seen}: {rest} (with a --palette, uncoloured); camera 1 sees {100 * seen_back:.0f}% of camera "
                f"{index}'s, but camera {index} looks like the infrared one: keep the visible camera first all the same, "
                "as defusion fuse takes an infrared + visible pair (the fused images then have its resolution)")
    return (f"{seen}: {rest}; camera 1 sees {100 * seen_back:.0f}% of camera {index}'s, so to fuse the whole view, "
            f"give camera {index} first (the narrower view; the fused images then have its resolution)")


__all__ = ["LOW_COVERAGE", "describe_coverage"]
