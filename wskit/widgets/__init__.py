"""ipywidgets panels that make the traffic visible.

Widgets take bytes, a traffic log or callbacks; they never start servers
themselves (that is :mod:`wskit.live`'s job), and nothing imports them.
"""

from .frameview import FrameView

__all__ = ["FrameView"]
