"""ipywidgets panels that make the traffic visible.

Widgets take bytes, a traffic log, a client or callbacks; they never start
servers themselves (that is :mod:`wskit.live`'s job), and nothing imports
them. Updates coming from the wskit loop thread are coalesced (at most 20
redraws a second) and memory stays bounded.
"""

from .browserclient import BrowserClient
from .chatroom import ChatRoom
from .frameview import FrameView
from .handshakeview import HandshakeView
from .messagepanel import MessagePanel
from .quiz import Question, Quiz

__all__ = ["MessagePanel", "HandshakeView", "FrameView", "ChatRoom", "Quiz", "Question", "BrowserClient"]
