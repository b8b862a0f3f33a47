"""ipywidgets panels that make the traffic visible.

Widgets take bytes, a traffic log, a client or callbacks; they never start
servers themselves (that is :mod:`wskit.live`'s job), and nothing imports
them. They never run on the wskit loop thread: a log's subscriber only queues
the record, and one UI thread per process (``wskit-redraw``, see
:mod:`._pump`) drains the queues at most 20 times a second and is the only
writer of each widget. A re-run cell's widget replaces the previous run's,
which stops following its logs. Memory stays bounded.
"""

from .browserclient import BrowserClient
from .chatroom import ChatRoom
from .frameview import FrameView
from .handshakeview import HandshakeView
from .messagepanel import MessagePanel
from .quiz import Question, Quiz

__all__ = ["MessagePanel", "HandshakeView", "FrameView", "ChatRoom", "Quiz", "Question", "BrowserClient"]
