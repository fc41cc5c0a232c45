"""The auditors' console (issue 12): server-rendered pages at `/` (`pages`), and the API side of
case work on flags (`cases_api`)."""

from fastapi import APIRouter

from ledger.http.console import cases_api, pages

ROUTERS: list[APIRouter] = [cases_api.router, pages.router]

__all__ = ["ROUTERS"]
