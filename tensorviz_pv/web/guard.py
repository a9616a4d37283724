"""Who may read the page: the HTTP side of `tensorviz serve` (aiohttp middlewares, added to the
trame server before it starts). Every request with a path that climbs (`..`) is refused; a
websocket opened from another site's page is refused; given a token, every request without it
is refused: the page's URL carries it once (?token=...), then a cookie of that origin does."""

import hmac
from urllib.parse import unquote, urlsplit

from aiohttp import web

COOKIE = "tensorviz_token"


def middlewares(token=None):
    """The middlewares to add to the server's aiohttp application, outermost first."""
    return [_paths_stay_inside] + ([_token_guard(token)] if token else []) + [_same_origin_sockets]


@web.middleware
async def _paths_stay_inside(request, handler):
    raw = unquote(unquote(request.raw_path.split("?")[0]))
    if ".." in raw.replace("\\", "/").split("/"):
        raise web.HTTPNotFound(text="not found\n")
    return await handler(request)


@web.middleware
async def _same_origin_sockets(request, handler):
    """A websocket is opened by this server's own page only (another site's page, open in the
    same browser, could otherwise reach a server bound to localhost)."""
    origin = request.headers.get("Origin")
    if request.headers.get("Upgrade", "").lower() == "websocket" and origin:
        if urlsplit(origin).netloc != request.host:
            raise web.HTTPForbidden(text="websocket from another origin refused\n")
    return await handler(request)


def _token_guard(token):
    @web.middleware
    async def guard(request, handler):
        given = request.query.get("token") or request.cookies.get(COOKIE) or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise web.HTTPForbidden(text="tensorviz serve: this page needs its token: open the "
                                         "URL with ?token=... that the server printed\n")
        response = await handler(request)
        if "token" in request.query and not response.prepared:
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
        return response
    return guard
