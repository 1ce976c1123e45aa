"""Coordinator pages: Litestar handlers, sign-in and sessions, Jinja2 templates."""

from peermatch.web.app import create_app

__all__ = ["create_app"]
