"""The one JSON response class of the app, for results and problem+json alike: UTF-8 as is (Devanagari arrives as
Devanagari, never `\\u0938…`), and every float rounded to `FLOAT_DECIMALS` decimal places, so that float32 noise
(`0.8999999761581421`) never reaches a client. Rounding happens here and only here, after the response model has
been validated, so routes hand over exact values."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse

FLOAT_DECIMALS = 4
PRECISION = f"rounded to {FLOAT_DECIMALS} decimal places"


def rounded(value: Any) -> Any:
    """`value` (JSON-able: dicts, lists, scalars) with every float rounded to FLOAT_DECIMALS places."""
    if isinstance(value, float):
        return round(value, FLOAT_DECIMALS)
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(item) for item in value]
    return value


class JsonResponse(JSONResponse):
    """JSON as UTF-8 without escapes, floats rounded; `media_type` may be application/problem+json."""

    def render(self, content: Any) -> bytes:
        return json.dumps(
            rounded(content), ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
        ).encode("utf-8")
