"""``GET /image/{image_id}``: cover art served by the simulator itself.

Spotify's image URLs point at its CDN; the simulator's point here, so a demo shows real pictures
with no request leaving the machine. Each id draws its own picture (colours and shapes from a
hash of the id), the same every time, as an SVG a browser shows like any cover.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

IMAGE_PATH = "/image"
# As a CDN serves covers: the picture behind an id never changes.
CACHE = "public, max-age=31536000, immutable"


def image_url(root: str, image_id: str) -> str:
    """URL of the picture ``image_id`` on the simulator at ``root`` (``http://host:port``)."""
    return f"{root.rstrip('/')}{IMAGE_PATH}/{image_id}"


def cover_svg(image_id: str) -> str:
    digest = hashlib.sha256(image_id.encode()).digest()
    hue = digest[0] * 360 // 256
    second = (hue + 40 + digest[1] % 140) % 360
    shapes = []
    for i in range(4):
        b = digest[2 + 4 * i : 6 + 4 * i]
        cx, cy, r = b[0] * 300 // 255, b[1] * 300 // 255, 30 + b[2] % 90
        light = 45 + b[3] % 35
        shapes.append(
            f'<circle cx="{cx}" cy="{cy}" r="{r}" '
            f'fill="hsl({(second + 25 * i) % 360} 70% {light}%)" fill-opacity="0.75"/>'
        )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 300" width="300" height="300">'
        '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="hsl({hue} 65% 35%)"/>'
        f'<stop offset="1" stop-color="hsl({(hue + 60) % 360} 60% 18%)"/>'
        "</linearGradient></defs>"
        '<rect width="300" height="300" fill="url(#g)"/>' + "".join(shapes) + "</svg>"
    )


async def image(request: Request) -> Response:
    image_id = request.path_params["image_id"]
    return Response(
        cover_svg(image_id), media_type="image/svg+xml", headers={"Cache-Control": CACHE}
    )


ROUTES = [Route(IMAGE_PATH + "/{image_id}", image, methods=["GET"])]
