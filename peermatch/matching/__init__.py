"""The pure matching engine: ``peermatch.problem/1`` in, ``peermatch.solution/1`` out.

Imports only the standard library and OR-Tools (with numpy, which OR-Tools itself requires and
whose arrays its vectorised APIs take). No database, no web: a test proves it.
"""
